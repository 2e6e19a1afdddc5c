package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// These tests drive the writer into states the conformance suite cannot
// reach through the interface: a writer busy while Updates queue up.

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// blockWriter runs an Update that holds the writer until release is called.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(group.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking update: %v", err)
		}
	}
}

// waitQueued waits until n Updates are queued for the writer.
func waitQueued(s *Store, n int) {
	for len(s.reqs) < n {
		runtime.Gosched()
	}
}

// queueUpdates starts n Updates that each add a user, and returns their errors once all are answered.
func queueUpdates(s *Store, n int) (wait func() []error) {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(context.Background(), func(tx group.Tx) error {
				return tx.PutUser(group.User{ID: "u" + strconv.Itoa(i)})
			})
		})
	}
	return func() []error { wg.Wait(); return errs }
}

func TestGroupCommit(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "qun.db"))
	defer s.Close()
	release := blockWriter(t, s)
	const n = 20
	wait := queueUpdates(s, n)
	waitQueued(s, n)
	commits := s.commits.Load()
	release()
	for i, err := range wait() {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	// The blocking Update's commit, then one for all the queued ones.
	if got := s.commits.Load() - commits; got != 2 {
		t.Errorf("%d commits for the blocking update and %d queued ones, want 2", got, n)
	}
}

func TestMaxBatch(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"), WithMaxBatch(4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := blockWriter(t, s)
	wait := queueUpdates(s, 8)
	waitQueued(s, 4) // the queue holds one batch; the others wait to be queued
	commits := s.commits.Load()
	release()
	for i, err := range wait() {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	// The blocker's commit, then at least two batches of at most 4.
	if got := s.commits.Load() - commits; got < 3 {
		t.Errorf("%d commits for the blocker and 8 updates in batches of at most 4, want at least 3", got)
	}
}

func TestCanceledWhileQueued(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "qun.db"))
	defer s.Close()
	release := blockWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(group.Tx) error { ran = true; return nil })
	}()
	waitQueued(s, 1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update canceled while queued: error %v, fn ran %v; want context.Canceled and no run", err, ran)
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	release := blockWriter(t, s)
	const n = 10
	wait := queueUpdates(s, n)
	waitQueued(s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	for i, err := range wait() {
		if err != nil {
			t.Errorf("queued update %d: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openTest(t, path)
	defer s.Close()
	err := s.View(t.Context(), func(r group.Reader) error {
		for i := range n {
			if _, err := r.User("u" + strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("after reopening: %v", err)
	}
}

func TestViewIsReadOnly(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "qun.db"))
	defer s.Close()
	err := s.View(t.Context(), func(r group.Reader) error {
		if _, ok := r.(group.Tx); ok {
			return errors.New("the Reader of View is a Tx")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`, len(ms)+1); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Error("Open of a database migrated by a newer binary: no error")
	}
}

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	for range 2 { // the second Open finds nothing to apply
		s := openTest(t, path)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, latest int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || latest != len(ms) {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d", n, latest, len(ms))
	}
}

// countingObserver adds up what a store reports.
type countingObserver struct {
	mu                               sync.Mutex
	commits, updates, events, waited int
}

func (o *countingObserver) Committed(updates, events int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commits++
	o.updates += updates
	o.events += events
}

func (o *countingObserver) Waited(time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waited++
}

func (o *countingObserver) Retried() {}

// The observer hears of every commit with its Updates and the events of the
// ones that succeeded, and of every Update's wait; QueueDepth counts the
// Updates waiting for the writer.
func TestObserver(t *testing.T) {
	var ob countingObserver
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"), WithObserver(&ob))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := blockWriter(t, s)
	const n = 9
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_ = s.Update(context.Background(), func(tx group.Tx) error {
				for range 2 {
					if _, err := tx.AppendEvent(group.Event{BotID: "bot", Type: group.EventAddRobot, GroupID: "g", CreatedAt: time.UnixMilli(1)}); err != nil {
						return err
					}
				}
				if i%3 == 0 {
					return errors.New("undone") // its events roll back
				}
				return nil
			})
		})
	}
	waitQueued(s, n)
	if d := s.QueueDepth(); d != n {
		t.Errorf("QueueDepth %d, want %d", d, n)
	}
	release()
	wg.Wait()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.updates != n+1 || ob.events != 2*6 || ob.waited != n+1 || ob.commits != int(s.commits.Load()) || ob.commits < 2 {
		t.Errorf("observed %d commits (store: %d), %d updates, %d events, %d waits; want %d updates, 12 events, %d waits",
			ob.commits, s.commits.Load(), ob.updates, ob.events, ob.waited, n+1, n+1)
	}
}

// migrationLogs opens a logger that records, as JSON, into the returned buffer.
func migrationLogs() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

// appliedMigrations returns the migrations the log says were applied.
func appliedMigrations(t *testing.T, log *bytes.Buffer) []string {
	t.Helper()
	var names []string
	dec := json.NewDecoder(log)
	for dec.More() {
		var rec struct {
			Msg       string `json:"msg"`
			Migration string `json:"migration"`
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("log line: %v", err)
		}
		if rec.Msg == "sqlite: migration applied" {
			names = append(names, rec.Migration)
		}
	}
	return names
}

func TestMigrationsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.Name)
	}
	for i, want := range [][]string{want, nil} { // the second Open applies nothing
		logger, log := migrationLogs()
		s, err := Open(t.Context(), path, WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := appliedMigrations(t, log); !slices.Equal(got, want) {
			t.Errorf("open %d logged migrations %v, want %v", i+1, got, want)
		}
	}
}

// The writer keeps its sub-journal in memory and a page cache of
// WithWriterCache KiB: the settings a 2,000-member write needs (see Open).
func TestWriterPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"), WithWriterCache(4096))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	// The writer goroutine is idle, so the one writer connection is free.
	var cache, tempStore int
	if err := s.wdb.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if err := s.wdb.QueryRowContext(t.Context(), "PRAGMA temp_store").Scan(&tempStore); err != nil {
		t.Fatal(err)
	}
	if cache != -4096 || tempStore != 2 {
		t.Errorf("cache_size %d, temp_store %d; want -4096 (KiB) and 2 (memory)", cache, tempStore)
	}
}
