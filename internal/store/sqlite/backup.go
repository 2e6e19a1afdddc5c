package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database file at path to dest. It
// is safe while a Store, in this process or another, has the file open and
// is writing: VACUUM INTO copies one read snapshot through a connection of
// its own, and WAL readers neither block the writer nor wait for it. The
// copy is a complete database that Open takes as it is (restore it by
// putting it where path was, with no -wal or -shm file beside it).
//
// dest must not exist (an error matching fs.ErrExist otherwise). The copy is
// written under a temporary name in dest's directory, synced, and then linked
// to dest, so dest appears whole or not at all and a file another process
// creates there meanwhile is never overwritten. It is readable by its owner
// only: it holds every secret the database holds.
func Backup(ctx context.Context, path, dest string) (err error) {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// The temporary file is created empty with mode 0600; VACUUM INTO fills
	// an empty file and keeps its mode.
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		if rerr := os.Remove(tmpName); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}()

	// mode=rw: never create a database that is not there. Read-write rather
	// than read-only so that, if qun is not running, the connection's close
	// checkpoints and removes the -wal and -shm files it had to create
	// instead of leaving them owned by whoever ran the backup.
	db, err := sql.Open("sqlite", dsn(abs, options{busyTimeout: DefaultBusyTimeout}, url.Values{"mode": {"rw"}}))
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("sqlite: backup %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// Link, unlike rename, fails if dest has appeared since the check.
	if err := os.Link(tmpName, dest); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(filepath.Dir(dest)); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// syncFile flushes the file or directory name to stable storage.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
