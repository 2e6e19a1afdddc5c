// Package postgres is the store for more than one node: every qun node
// opens the same PostgreSQL database (pgx, a connection pool), each Update is
// in a READ COMMITTED transaction whose counters and read-modify-writes are
// ordered by row locks (concurrent Updates of one node share a transaction,
// each in a savepoint), and nodes wake each other's WaitEvents with
// LISTEN/NOTIFY, backed by a slow poll. It implements the domain's
// group.Store, the QQ door's qqbot.Store (whose methods are each one
// transaction) and the Wildfire doors' wildfire.NonceStore; internal/app checks
// that it does.
//
// It needs PostgreSQL 11 or later. It imports the domain (internal/group),
// what the stores share (internal/store), the standard library and pgx; never
// a door or another store.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// Limits and defaults, each overridable with an Option.
const (
	// DefaultChannel is the LISTEN/NOTIFY channel on which nodes announce
	// events: the payload is "<seq> <botID>".
	DefaultChannel = "qun_events"
	// DefaultPollInterval is how often each node reads the last event seq of
	// the bots it has waiters for, so that a lost notification delays a
	// wake-up by at most this long and never loses it.
	DefaultPollInterval = time.Second
	// DefaultMaxAttempts is how many times Update runs fn when PostgreSQL
	// aborts the transaction for a deadlock or a serialization failure; the
	// last failure is returned.
	DefaultMaxAttempts = 5
	// DefaultListenerCheck is how long the listener connection may stay
	// silent before it is pinged, so that a dead connection is replaced
	// instead of waited on for ever.
	DefaultListenerCheck = 30 * time.Second
	// DefaultReconnectDelay is how long the listener waits before it tries
	// again to connect after a failure.
	DefaultReconnectDelay = time.Second
	// retryBackoff bounds the random pause before Update runs fn again.
	retryBackoff = 20 * time.Millisecond
)

// ErrClosed is returned by Update and View after Close.
var ErrClosed = errors.New("postgres: store closed")

// Compile-time checks that the store and its transactions speak the domain.
var (
	_ group.Store  = (*Store)(nil)
	_ group.Tx     = (*writer)(nil)
	_ group.Reader = (*reader)(nil)
)

// Store is a group.Store backed by a PostgreSQL database that several nodes
// may share.
type Store struct {
	opts options
	pool *pgxpool.Pool

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc // stops the listener and the poller
	wg        sync.WaitGroup     // the listener and the poller

	// events holds this node's WaitEvents callers. Update wakes them after
	// its own commit (with the seqs it appended), the listener for other
	// nodes' commits (with the seq in the notification), and the poller when
	// a bot's last seq in the database is past every seq woken for, which
	// covers notifications that never came.
	events   *store.Waiters
	listener *listener
	lanes    lanes // group commit (batch.go) and shared nonces (nonce.go)
	// ownPIDs holds the backend process ids of the pool's connections. A
	// notification from one of them announces a commit of this Store, whose
	// waiters Update wakes itself; acted on, it would also wake waiters that
	// came after that commit.
	ownPIDs sync.Map // uint32 → struct{}
	// trips counts the round trips of Updates and Views (pipe), for tests
	// and benchmarks.
	trips atomic.Int64
}

// Option changes a default of Open.
type Option func(*options)

type options struct {
	schema         string
	channel        string
	pollInterval   time.Duration
	maxAttempts    int
	maxBatch       int
	maxConns       int32
	listenerCheck  time.Duration
	reconnectDelay time.Duration
	logger         *slog.Logger
	observer       store.Observer
}

// WithSchema keeps the store's tables in schema, created if missing, by
// making it the search_path of every connection ("" keeps the DSN's).
func WithSchema(schema string) Option { return func(o *options) { o.schema = schema } }

// WithChannel sets the LISTEN/NOTIFY channel (DefaultChannel); every node of
// one database (and schema) must use the same.
func WithChannel(name string) Option { return func(o *options) { o.channel = name } }

// WithPollInterval sets how often event seqs are polled (DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithMaxAttempts sets how many times an aborted Update runs (DefaultMaxAttempts).
func WithMaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = n } }

// DefaultMaxConns is the pool size when neither WithMaxConns nor the DSN's
// pool_max_conns sets it. Connections are opened as needed.
const DefaultMaxConns = 16

// WithMaxConns sets the pool size (else the DSN's pool_max_conns, else DefaultMaxConns).
func WithMaxConns(n int32) Option { return func(o *options) { o.maxConns = n } }

// WithLogger sets where migrations applied, panics and listener failures are
// logged (slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithObserver sets who is told of every commit and retry (store.NopObserver).
func WithObserver(ob store.Observer) Option { return func(o *options) { o.observer = ob } }

// Open connects to the database dsn names (a URL or key=value string, as
// pgxpool.ParseConfig takes), applies the migrations it lacks under an
// advisory lock, and starts listening for other nodes' events. Close releases it.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{
		channel:        DefaultChannel,
		pollInterval:   DefaultPollInterval,
		maxAttempts:    DefaultMaxAttempts,
		maxBatch:       DefaultMaxBatch,
		listenerCheck:  DefaultListenerCheck,
		reconnectDelay: DefaultReconnectDelay,
		logger:         slog.Default(),
		observer:       store.NopObserver{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.channel == "" || len(o.channel) > maxIdentifier || o.pollInterval <= 0 || o.maxAttempts < 1 || o.maxBatch < 1 ||
		o.maxConns < 0 || len(o.schema) > maxIdentifier || o.logger == nil || o.observer == nil {
		return nil, fmt.Errorf("postgres: invalid options: schema %q, channel %q, poll interval %v, max attempts %d, max conns %d",
			o.schema, o.channel, o.pollInterval, o.maxAttempts, o.maxConns)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: do not wrap it.
		return nil, errors.New("postgres: the DSN does not parse")
	}
	if o.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		// Every statement is prepared (pgx's statement cache) and reads by
		// key, where a generic plan is the custom one; PostgreSQL would plan
		// most statements again at every execution, which was a fifth of its
		// CPU on a member/add (BENCHMARKS.md). A DSN may say otherwise.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	switch {
	case o.maxConns > 0:
		cfg.MaxConns = o.maxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		// pgxpool's default (4 on small machines) lets only a few commits
		// share a WAL flush; a server wants more concurrent transactions.
		cfg.MaxConns = DefaultMaxConns
	}

	s := &Store{opts: o, events: store.NewPolledWaiters()}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		s.ownPIDs.Store(c.PgConn().PID(), struct{}{})
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) { s.ownPIDs.Delete(c.PgConn().PID()) }
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, s.pool, o.schema, o.logger); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// The first LISTEN happens before Open returns: a waiter can then miss
	// no notification, and a database that refuses it fails Open.
	s.listener = &listener{cfg: cfg.ConnConfig.Copy(), channel: o.channel, check: o.listenerCheck,
		reconnectDelay: o.reconnectDelay, logger: o.logger, notify: s.notified, reconnected: s.events.WakeAll}
	if err := s.listener.connect(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.listener.run(runCtx) }()
	go func() { defer s.wg.Done(); s.poll(runCtx) }()
	s.startLanes(int(cfg.MaxConns))
	return s, nil
}

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN-1); a longer
// schema or channel name would be silently truncated.
const maxIdentifier = 63

// Update runs fn in a READ COMMITTED transaction, which it may share with
// concurrent Updates of this Store, each in a savepoint of its own (see
// batch.go). If PostgreSQL aborts it for a deadlock or a serialization
// failure, fn runs again in a transaction of its own, up to the store's max
// attempts: fn must not have effects outside tx other than setting its
// results. fn must not use tx from another goroutine or keep it.
//
// A nonce bound to ctx (BindNonce) is recorded first, in the same
// transaction; a live one fails the Update, none of fn's writes committed.
func (s *Store) Update(ctx context.Context, fn func(group.Tx) error) error {
	nonce := s.claimNonce(ctx)
	if nonce == nil {
		return s.update(ctx, func(w *writer) error { return fn(w) })
	}
	err := s.update(ctx, func(w *writer) error {
		u, err := w.useBound(nonce)
		if err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		return u.settle(w)
	})
	if err == nil {
		nonce.fresh, nonce.known = true, true
	}
	return err
}

// update is Update for the store's own methods, which use the writer's
// unexported statements.
func (s *Store) update(ctx context.Context, fn func(*writer) error) error {
	return s.updateBatched(ctx, fn)
}

// updateAlone runs fn in a transaction of its own, from the given attempt on.
func (s *Store) updateAlone(ctx context.Context, fn func(*writer) error, first int) error {
	for attempt := first; ; attempt++ {
		if s.closed.Load() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		w, retry, err := s.attempt(ctx, fn)
		if err == nil {
			s.opts.observer.Committed(1, w.appended)
			s.events.Wake(w.evented)
			return nil
		}
		if !retry || attempt >= s.opts.maxAttempts {
			return err
		}
		s.opts.observer.Retried()
		select {
		case <-time.After(rand.N(retryBackoff)):
		case <-ctx.Done():
			return err
		}
	}
}

// attempt makes one attempt of Update. It returns the committed writer,
// which holds the last seq it appended per bot, and whether PostgreSQL
// aborted the transaction in a way that running fn again may fix.
func (s *Store) attempt(ctx context.Context, fn func(*writer) error) (committed *writer, retry bool, err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return nil, false, s.beginError(err)
	}
	// After Commit this does nothing; after anything else it ends the
	// transaction, whatever ctx has become.
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // the error that matters is returned already

	w := &writer{reader: reader{c: &dbtx{ctx: ctx, tx: tx, write: true}}, evented: make(map[string]int64)}
	if err := s.call(func() error { return fn(w) }); err != nil {
		return nil, w.c.retry, err
	}
	if len(w.events) > 0 {
		if err := appendEvents(ctx, tx, w.events, w.evented); err != nil {
			return nil, w.c.retry || isRetryable(err), w.c.fail("append events", err)
		}
	}
	if err := w.notify(s.opts.channel); err != nil {
		return nil, w.c.retry, err
	}
	// Once fn has succeeded the commit is not canceled half-way: a canceled
	// ctx could otherwise report a failure for writes that then commit.
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			// A statement failed and fn went on without returning its error.
			return nil, w.c.retry, fmt.Errorf("postgres: commit: a statement failed earlier in the transaction: %w", err)
		}
		return nil, isRetryable(err), fmt.Errorf("postgres: commit: %w", err)
	}
	return w, false, nil
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction: one snapshot of
// the database, taken at its first statement.
func (s *Store) View(ctx context.Context, fn func(group.Reader) error) error {
	return s.view(ctx, func(r *reader) error { return fn(r) })
}

// view is View for the store's own methods.
func (s *Store) view(ctx context.Context, fn func(*reader) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The BEGIN goes with the first statement (see pipe): one round trip less.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.beginError(err)
	}
	p := newPipe(conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, &s.trips)
	defer p.release() // read-only: ROLLBACK, nothing to lose
	r := &reader{c: &dbtx{ctx: ctx, tx: p}}
	return s.call(func() error { return fn(r) })
}

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

func (s *Store) beginError(err error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("postgres: begin: %w", err)
}

// call runs fn and turns a panic into an EInternal error, logged with its
// stack; the caller's deferred Rollback then discards the transaction.
func (s *Store) call(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.logger.Error("postgres: panic in a store transaction", "panic", p, "stack", string(debug.Stack()))
			err = group.Errorf(group.EInternal, "panic in a store transaction: %v", p)
		}
	}()
	return fn()
}

// FeedEvents returns a feed of the events botID's commits append from now
// on through this store (store.Feed); its reader closes it.
func (s *Store) FeedEvents(botID string) group.EventFeed {
	return s.events.Feed(botID)
}

// WaitEvents returns a channel closed after the next commit, on any node,
// that appends an event for botID. After Close it returns a closed channel.
func (s *Store) WaitEvents(botID string) <-chan struct{} {
	return s.events.Wait(botID)
}

// Close stops the listener and the poller, wakes every WaitEvents channel and
// closes the pool once the transactions in progress have ended. Update and
// View fail with ErrClosed after it. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.lanes.close()
		s.stop()
		s.wg.Wait()
		s.events.Close()
		s.pool.Close()
	})
	return nil
}
