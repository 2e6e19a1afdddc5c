package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// putUser writes one user in its own Update.
func putUser(t *testing.T, s *Store, id string) {
	t.Helper()
	if err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutUser(group.User{ID: id, Name: id}) }); err != nil {
		t.Error(err)
	}
}

// countUsers counts the users u0, u1, ... that the store has, stopping at the first missing.
func countUsers(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.View(t.Context(), func(r group.Reader) error {
		for ; ; n++ {
			if _, err := r.User(fmt.Sprintf("u%d", n)); group.IsNotExist(err) {
				return nil
			} else if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestBackupWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	defer s.Close()
	const before, during = 50, 200
	for i := range before {
		putUser(t, s, fmt.Sprintf("u%d", i))
	}
	var wg sync.WaitGroup
	writing := make(chan struct{})
	wg.Go(func() {
		for i := before; i < before+during; i++ {
			putUser(t, s, fmt.Sprintf("u%d", i))
			if i == before+10 {
				close(writing)
			}
		}
	})
	<-writing // the backup starts while the writes go on
	backups := t.TempDir()
	dest := filepath.Join(backups, "backup.db")
	if err := Backup(t.Context(), path, dest); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if names := dirNames(t, backups); len(names) != 1 || names[0] != "backup.db" {
		t.Errorf("backup directory holds %v, want only backup.db", names)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	// Writes are sequential, so a consistent snapshot holds u0..u(n-1) and
	// nothing after: every user written before the backup began, and a
	// prefix of the rest.
	restored := openTest(t, dest)
	defer restored.Close()
	n := countUsers(t, restored)
	t.Logf("the backup holds %d of %d users", n, before+during)
	if n < before+11 || n > before+during {
		t.Fatalf("backup has users u0..u%d, want at least u0..u%d", n-1, before+10)
	}
	err = restored.View(t.Context(), func(r group.Reader) error {
		_, err := r.User(fmt.Sprintf("u%d", n+1))
		return err
	})
	if !group.IsNotExist(err) {
		t.Errorf("backup has u%d but not u%d: not a snapshot (err %v)", n+1, n, err)
	}
	var check string
	if err := restored.rdb.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}

func TestBackupRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	defer s.Close()
	dir := t.TempDir()
	for name, content := range map[string]string{"full": "keep me", "empty": ""} {
		dest := filepath.Join(dir, name)
		if err := os.WriteFile(dest, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Backup(t.Context(), path, dest); !errors.Is(err, fs.ErrExist) {
			t.Errorf("backup onto an existing %s file: err %v, want fs.ErrExist", name, err)
		}
		if b, _ := os.ReadFile(dest); string(b) != content {
			t.Errorf("existing %s file changed to %q", name, b)
		}
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("directory holds %v, want only the two files", names)
	}
}

func TestBackupOfMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	err := Backup(t.Context(), filepath.Join(dir, "qun.db"), filepath.Join(dir, "backup.db"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v, want fs.ErrNotExist", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %v, want nothing (no database created)", names)
	}
}
