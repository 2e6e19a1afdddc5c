// Package sqlite is the embedded store: one SQLite file in WAL mode,
// written by a single goroutine that commits concurrent Updates together
// (group commit) and read through a pool of query-only connections. It
// implements the domain's group.Store, the QQ door's qqbot.Store (whose
// methods are each one Update or View) and the Wildfire doors'
// wildfire.NonceStore (whose nonces ride the group commit); internal/app checks
// that it does.
//
// It imports the domain (internal/group), what the stores share
// (internal/store), the standard library and the modernc.org/sqlite driver;
// never a door or another store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Limits and defaults, each overridable with an Option.
const (
	// DefaultMaxBatch is how many queued Updates one commit takes at most.
	// More amortises the fsync over more writes; fewer bounds how long one
	// commit holds the writer.
	DefaultMaxBatch = 256
	// DefaultReadConns is the size of the read pool that serves View.
	DefaultReadConns = 8
	// DefaultBusyTimeout is how long a connection waits for a lock held by
	// another process (a backup, the sqlite3 shell) before failing.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultWriterCache is the writer's page cache, in KiB (SQLite's default
	// is 2,000). A 2,000-member write touches a leaf of the by-user member
	// index per member once users are in many groups; in 2 MB those pages
	// were spilled and read back within the same write (measured: 200–270 ms
	// against 125–160 ms per such write with 32 MiB). It fills only as the
	// writer touches pages.
	DefaultWriterCache = 32 << 10
)

// ErrClosed is returned by Update and View after Close.
var ErrClosed = errors.New("sqlite: store closed")

// Compile-time checks that the store and its transactions speak the domain.
var (
	_ group.Store  = (*Store)(nil)
	_ group.Tx     = (*writer)(nil)
	_ group.Reader = (*reader)(nil)
)

// Store is a group.Store backed by one SQLite database file.
type Store struct {
	opts options

	wdb *sql.DB // the one writer connection, used only by the writer goroutine after Open
	rdb *sql.DB // the query-only read pool

	wstmts map[string]*sql.Stmt // every statement, prepared on wdb; read-only after Open
	rstmts map[string]*sql.Stmt // read statements, prepared on rdb; read-only after Open

	mu     sync.RWMutex // held for reading while sending on reqs, for writing to close it
	closed bool
	reqs   chan *request
	done   chan struct{} // closed when the writer goroutine has returned

	events *store.Waiters

	cache *cache // the writer goroutine's; see cache

	// Counters for benchmarks and tests: how many Updates (and UseNonces) ran
	// and in how many commits.
	updates atomic.Int64
	commits atomic.Int64
	// statements the writer ran (BEGIN and COMMIT apart); every count
	// includes the writer's own (savepoints, the nonces it records).
	statements atomic.Int64
	// freshCache makes the writer start every transaction with an empty
	// cache, for benchmarks that measure what the cache saves.
	freshCache bool
}

// Option changes a default of Open.
type Option func(*options)

type options struct {
	maxBatch    int
	readConns   int
	busyTimeout time.Duration
	writerCache int // KiB
	logger      *slog.Logger
	observer    store.Observer
}

// WithMaxBatch sets how many queued Updates one commit takes at most (DefaultMaxBatch).
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// WithReadConns sets the number of read connections (DefaultReadConns).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// WithBusyTimeout sets how long to wait for another process's lock (DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithWriterCache sets the writer's page cache in KiB (DefaultWriterCache).
func WithWriterCache(kib int) Option { return func(o *options) { o.writerCache = kib } }

// WithLogger sets where migrations applied, and a panic inside an Update
// with its stack, are logged (slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithObserver sets who is told of every commit and every Update's wait in
// the writer's queue (store.NopObserver).
func WithObserver(ob store.Observer) Option { return func(o *options) { o.observer = ob } }

// Open opens the database file at path, creating it if needed, applies the
// migrations it lacks and starts the writer. Close releases it.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{
		maxBatch:    DefaultMaxBatch,
		readConns:   DefaultReadConns,
		busyTimeout: DefaultBusyTimeout,
		writerCache: DefaultWriterCache,
		logger:      slog.Default(),
		observer:    store.NopObserver{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBatch < 1 || o.readConns < 1 || o.busyTimeout < 0 || o.writerCache < 1 || o.logger == nil || o.observer == nil {
		return nil, fmt.Errorf("sqlite: invalid options: max batch %d, read conns %d, busy timeout %v, writer cache %d KiB",
			o.maxBatch, o.readConns, o.busyTimeout, o.writerCache)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	s := &Store{opts: o}
	if err := s.open(ctx, abs); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.reqs = make(chan *request, o.maxBatch)
	s.done = make(chan struct{})
	s.events = store.NewWaiters()
	s.cache = newCache()
	go s.write()
	return s, nil
}

func (s *Store) open(ctx context.Context, path string) error {
	var err error
	// WAL lets View read a snapshot while the writer commits; synchronous=FULL
	// makes every commit durable, and group commit pays for that fsync once
	// per batch. _txlock=immediate takes the write lock at BEGIN.
	// temp_store=memory keeps the sub-journal in memory: every Update runs in
	// a savepoint, which copies each page it first changes to the
	// sub-journal, and in a temporary file that is two write(2) calls a page
	// (a quarter of the writer's time in a 2,000-member create).
	s.wdb, err = sql.Open("sqlite", dsn(path, s.opts, url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
		"_pragma":       {"temp_store(memory)", fmt.Sprintf("cache_size(-%d)", s.opts.writerCache)},
	}))
	if err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)

	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal (is the file system local?)", mode)
	}
	if err := migrate(ctx, s.wdb, s.opts.logger); err != nil {
		return err
	}

	s.rdb, err = sql.Open("sqlite", dsn(path, s.opts, url.Values{"_query_only": {"1"}}))
	if err != nil {
		return err
	}
	s.rdb.SetMaxOpenConns(s.opts.readConns)
	s.rdb.SetMaxIdleConns(s.opts.readConns)

	// With one writer connection a statement cannot be prepared while a
	// transaction holds it, so every statement is prepared here, up front.
	if s.wstmts, err = prepare(ctx, s.wdb, readQueries, writeQueries); err != nil {
		return err
	}
	if s.rstmts, err = prepare(ctx, s.rdb, readQueries); err != nil {
		return err
	}
	return nil
}

// dsn is the driver's name for the database at path with the given parameters.
func dsn(path string, o options, params url.Values) string {
	params.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

func prepare(ctx context.Context, db *sql.DB, lists ...[]string) (map[string]*sql.Stmt, error) {
	stmts := make(map[string]*sql.Stmt)
	for _, list := range lists {
		for _, q := range list {
			st, err := db.PrepareContext(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("prepare %q: %w", q, err)
			}
			stmts[q] = st
		}
	}
	return stmts, nil
}

// Update runs fn in a read-write transaction, possibly committed together
// with other Updates; fn's writes commit all or not at all. fn runs on the
// writer goroutine: it must not call Update or View itself, keep the Tx after
// returning, or call runtime.Goexit (t.FailNow).
//
// A nonce bound to ctx (BindNonce) is recorded first, in the same
// transaction; a live one fails the Update without running fn.
func (s *Store) Update(ctx context.Context, fn func(group.Tx) error) error {
	return s.queue(ctx, &request{ctx: ctx, fn: func(w *writer) error { return fn(w) }, nonce: s.claimNonce(ctx)})
}

// update is Update for the store's own methods, which use the writer's
// unexported statements.
func (s *Store) update(ctx context.Context, fn func(*writer) error) error {
	return s.queue(ctx, &request{ctx: ctx, fn: fn})
}

// queue hands r to the writer and returns its answer.
func (s *Store) queue(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.done, r.queued = make(chan error, 1), time.Now()
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued the request is answered whatever ctx does: returning early
	// could report a failure for writes that then commit.
	return <-r.done
}

// View runs fn in a read-only snapshot on the read pool.
func (s *Store) View(ctx context.Context, fn func(group.Reader) error) error {
	return s.view(ctx, func(r *reader) error { return fn(r) })
}

// view is View for the store's own methods.
func (s *Store) view(ctx context.Context, fn func(*reader) error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	sqlTx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // read-only: nothing to lose
	return fn(&reader{c: newDBTx(ctx, sqlTx, s.rstmts)})
}

// QueueDepth returns how many Updates wait for the writer now, for metrics.
func (s *Store) QueueDepth() int { return len(s.reqs) }

// viewOne runs read in one View and returns what it read.
func viewOne[T any](ctx context.Context, s *Store, read func(r *reader) (T, error)) (T, error) {
	var v T
	err := s.view(ctx, func(r *reader) (err error) {
		v, err = read(r)
		return err
	})
	return v, err
}

// updateOne runs write in one Update and returns its result.
func updateOne[T any](ctx context.Context, s *Store, write func(w *writer) (T, error)) (T, error) {
	var v T
	err := s.update(ctx, func(w *writer) (err error) {
		v, err = write(w)
		return err
	})
	return v, err
}

// FeedEvents returns a feed of the events botID's commits append from now
// on through this store (store.Feed); its reader closes it.
func (s *Store) FeedEvents(botID string) group.EventFeed {
	return s.events.Feed(botID)
}

// WaitEvents returns a channel closed after the next commit that appends an
// event for botID. After Close it returns a closed channel.
func (s *Store) WaitEvents(botID string) <-chan struct{} {
	return s.events.Wait(botID)
}

// Close stops accepting Updates, commits the ones already queued, wakes every
// WaitEvents channel and closes the database. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()

	<-s.done
	s.events.Close()
	if err := s.closeDBs(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, db := range []*sql.DB{s.rdb, s.wdb} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
