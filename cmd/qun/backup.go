package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

const backupUsage = `Usage: qun backup [--data DIR] FILE

Writes a consistent copy of the SQLite database (DIR/qun.db) to FILE, which
must not exist. Safe while qun serve runs: the copy is one snapshot, and the
server keeps serving and writing. FILE is readable by its owner only: it holds
the robots' and bots' secrets. Run it as the user qun serve runs as.

The admin secret is not in the database: keep DIR/admin-secret (or your
--admin-secret) with the backup, or give the restored qun --admin-secret.

Restore: stop qun, put FILE in place of DIR/qun.db (remove any qun.db-wal and
qun.db-shm beside it), start qun.

On PostgreSQL (--db, QUN_DB) use pg_dump, e.g.
  pg_dump --format=custom --file=qun.dump "$QUN_DB"

Examples:
  qun backup /var/backups/qun-$(date -I).db
  qun backup --data /var/lib/qun /var/backups/qun.db
  docker exec qun qun backup /data/backup.db

Flags:
`

// runBackup is qun backup: an online SQLite backup, or on PostgreSQL the
// advice to use pg_dump.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("qun backup", flag.ContinueOnError)
	// -h goes to stdout, as every other command's does; a flag's error and
	// the usage after it to stderr.
	var parsed bytes.Buffer
	flags.SetOutput(&parsed)
	flags.Usage = func() {
		fmt.Fprint(&parsed, backupUsage)
		flags.PrintDefaults()
	}
	data := flags.String("data", envOr(getenv, "QUN_DATA", app.DefaultData), "data directory holding qun.db (env QUN_DATA)")
	db := flags.String("db", getenv("QUN_DB"), "a postgres:// URL: then pg_dump is the tool (env QUN_DB)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = stdout.Write(parsed.Bytes())
			return 0
		}
		_, _ = stderr.Write(parsed.Bytes())
		return 2
	}
	if flags.NArg() != 1 {
		fmt.Fprintln(stderr, "qun backup: give one FILE to write the backup to (qun backup -h)")
		return 2
	}
	if *db != "" || getenv("QUN_DB_FILE") != "" {
		fmt.Fprintln(stderr, `qun backup: the database is PostgreSQL: back it up with pg_dump, e.g. pg_dump --format=custom --file=qun.dump "$QUN_DB", and restore with pg_restore`)
		return 1
	}
	src := filepath.Join(*data, "qun.db")
	dest := flags.Arg(0)
	if err := sqlite.Backup(ctx, src, dest); err != nil {
		switch {
		case errors.Is(err, fs.ErrExist):
			fmt.Fprintf(stderr, "qun backup: %s exists; give a new file name (a backup never overwrites)\n", dest)
		case errors.Is(err, fs.ErrNotExist) && !exists(src):
			fmt.Fprintf(stderr, "qun backup: no database at %s: is --data (QUN_DATA) the data directory of qun serve?\n", src)
		default:
			fmt.Fprintln(stderr, "qun backup:", err)
		}
		return 1
	}
	size := ""
	if fi, err := os.Stat(dest); err == nil {
		size = fmt.Sprintf(" (%d bytes)", fi.Size())
	}
	fmt.Fprintf(stdout, "qun: backed up %s to %s%s\n", src, dest, size)
	return 0
}

// envOr returns the variable, else def.
func envOr(getenv func(string) string, name, def string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return def
}

// exists reports whether name exists.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
