package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/group"
)

// Group commit: concurrent Updates of one node share a transaction.
const (
	// DefaultMaxBatch is how many Updates one transaction takes at most.
	// Each Update runs in a savepoint, a subtransaction; PostgreSQL tracks 64
	// of them per transaction in shared memory and past that makes every other
	// session's snapshots slower, so a batch (PutBot nests one more savepoint)
	// stays below it.
	DefaultMaxBatch = 32
	// DefaultLanes is how many batches commit at once, each on a connection
	// of its own (at most half the pool, at least one). An Update handed to
	// an idle lane starts at once; Updates queue into batches only while every
	// lane is busy, so a lone Update waits for nobody. More than one lane keeps
	// a slow batch (a lock wait, a WAL flush) from holding up every write.
	DefaultLanes = 4
)

// DefaultBatchLockWait is how long an Update in a shared batch, but the
// first, may wait for a lock (lock_timeout). A batch holds the locks of all
// its Updates, taken in no particular order, until it commits: two batches,
// or a batch and another transaction, could wait for each other, and
// PostgreSQL would only notice after deadlock_timeout (1 s by default). So an
// Update that waits this long is rolled back to its savepoint, the ones
// before it commit, and it starts the next batch. The first Update of a
// batch holds no other Update's locks and takes its own in the domain's
// order, as a transaction of its own would: it waits as long as it must.
// Every wait cycle thus has a member that gives up within this time.
const DefaultBatchLockWait = 2 * time.Millisecond

// errLockWaited rolls back an Update that waited for a lock longer than a
// shared batch allows, even if it went on: it starts the next batch.
var errLockWaited = errors.New("postgres: waited too long for a lock in a shared batch")

// sqlLockNotAvailable is the SQLSTATE of a lock_timeout.
const sqlLockNotAvailable = "55P03"

// request is one Update waiting for a lane.
type request struct {
	ctx  context.Context
	fn   func(*writer) error
	done chan answer // buffered, so that answering never blocks a lane
}

// answer is what a lane tells an Update: fn's error or the commit's, or, if
// alone is set, that the batch failed in a way that running fn again may fix
// (a deadlock, a serialization failure) and fn must run again in a
// transaction of its own from attempt on.
type answer struct {
	err     error
	alone   bool
	attempt int
}

// Statements of a batch, queued in front of the next statement (see pipe).
const (
	savepointSQL  = `SAVEPOINT u`
	rollbackToSQL = `ROLLBACK TO SAVEPOINT u`
	releaseSQL    = `RELEASE SAVEPOINT u`
)

var (
	writeTx = pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}
	// lock_timeout takes whole milliseconds.
	batchLockWaitSQL = fmt.Sprintf(`SET LOCAL lock_timeout = %d`, DefaultBatchLockWait.Milliseconds())
	noLockWaitSQL    = `SET LOCAL lock_timeout = 0`
)

// updateBatched hands fn to a lane and waits for its answer. An Update the
// batch could not keep runs again on its own, as Update did before group
// commit, with the attempts that are left.
func (s *Store) updateBatched(ctx context.Context, fn func(*writer) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan answer, 1)}
	select {
	case s.lanes.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.lanes.closing:
		return ErrClosed
	}
	return s.settle(ctx, fn, <-r.done)
}

// settle returns a's outcome, running fn again alone if a says so.
func (s *Store) settle(ctx context.Context, fn func(*writer) error, a answer) error {
	if !a.alone {
		return a.err
	}
	if a.attempt > s.opts.maxAttempts {
		return a.err
	}
	s.opts.observer.Retried()
	if a.attempt > 1 {
		// The transaction it deadlocked with may not have taken its locks
		// yet: give it a moment, as between the attempts of updateAlone.
		select {
		case <-time.After(rand.N(retryBackoff)):
		case <-ctx.Done():
			return a.err
		}
	}
	return s.updateAlone(ctx, fn, a.attempt)
}

// lane takes an Update (waiting for one), then, if every other lane is busy,
// every Update whose caller is waiting to hand it over, up to the batch size,
// and commits them together.
// It returns when the store closes.
func (s *Store) lane() {
	batch := make([]*request, 0, s.opts.maxBatch)
	for {
		select {
		case r := <-s.lanes.reqs:
			batch = append(batch[:0], r)
		case <-s.lanes.closing:
			return
		}
		busy := s.lanes.idle.Add(-1) == 0
	more:
		for busy && len(batch) < s.opts.maxBatch {
			select {
			case r := <-s.lanes.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commitBatch(batch)
		clear(batch) // let finished requests be collected
		s.lanes.idle.Add(1)
	}
}

// commitBatch runs batch in one transaction, each Update in a savepoint
// unless it is alone, commits and answers every request. The Updates after
// one that waited too long for a lock go into another transaction.
func (s *Store) commitBatch(batch []*request) {
	for len(batch) > 0 {
		live := make([]*request, 0, len(batch))
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.done <- answer{err: err} // gave up before its turn: fn does not run
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			return
		}
		answers, ran := s.runBatch(live)
		for i, r := range live[:ran] {
			r.done <- answers[i]
		}
		batch = live[ran:]
	}
}

// runBatch makes one attempt of live in one transaction and answers the
// first ran requests; the rest did not run (an Update waited for a lock).
func (s *Store) runBatch(live []*request) (answers []answer, ran int) {
	answers = make([]answer, len(live))
	// fail answers every request that has not failed on its own with err,
	// or, with retry, tells every request to run again alone.
	fail := func(err error, retry bool) ([]answer, int) {
		for i := range answers {
			switch {
			case retry:
				answers[i] = answer{err: err, alone: true, attempt: 2}
			case answers[i].err == nil:
				answers[i] = answer{err: err}
			}
		}
		return answers, len(live)
	}
	shared := len(live) > 1
	// A lone Update's statements use its caller's context, as they did
	// before group commit; a shared transaction uses none, so that one
	// caller's cancellation cannot interrupt the others' writes.
	ctx := context.Background()
	if !shared {
		ctx = live[0].ctx
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fail(s.beginError(err), false)
	}
	p := newPipe(conn, writeTx, &s.trips)
	defer p.release()

	evented := make(map[string]int64)
	appended := 0            // by the Updates that succeed, for the observer
	var events []group.Event // theirs, numbered at the commit
	ran = len(live)
	for i, r := range live {
		w := &writer{reader: reader{c: &dbtx{ctx: ctx, tx: p, write: true}}, evented: make(map[string]int64)}
		queuedAt, sentAt := len(p.queue), p.sent
		if shared {
			p.push(savepointSQL)
		}
		fnErr := s.call(func() error { return r.fn(w) })
		if fnErr == nil && p.writes > 0 && (shared || ctx.Done() != nil) {
			// fn ended with writes still queued (dbtx.later): they go now,
			// so that an error of theirs is fn's, not a neighbour's, and, for
			// a lone Update, so that a lock they wait for is waited for under
			// its caller's ctx (the COMMIT is not canceled).
			_, fnErr = p.Exec(ctx, `SELECT 1`)
		}
		if w.c.retry {
			return fail(fnErr, true)
		}
		sent := p.sent != sentAt
		if fnErr != nil && sent {
			// What fn queued since its last round trip is its own writes:
			// they are rolled back anyway, and an error of theirs must not
			// fall to the next Update.
			p.queue, p.writes = p.queue[:0], 0
		}
		if fnErr == nil && sent && p.failed() {
			// A statement failed and fn went on without returning its error.
			fnErr = errors.New("postgres: commit: a statement failed earlier in the transaction")
		}
		if fnErr == nil && shared && i > 0 && w.c.lockWait {
			// fn waited too long for a lock and went on (a nested savepoint
			// rolled back, say): it runs again in the next batch, so none of
			// this run's writes may stay in this one.
			fnErr = errLockWaited
		}
		if !shared {
			if fnErr != nil {
				return fail(fnErr, false)
			}
			maps.Copy(evented, w.evented)
			appended += w.appended
			events = append(events, w.events...)
			break
		}
		switch {
		case !sent:
			// fn sent nothing (a write it queued failed it, or it wrote
			// nothing): neither does its savepoint.
			p.queue, p.writes = p.queue[:queuedAt], 0
		case fnErr != nil && p.failed():
			// An aborted transaction refuses even the Parse of the next
			// new statement, which pgx sends before the batch: roll back now.
			if _, err := p.Exec(ctx, rollbackToSQL); err != nil {
				return fail(fmt.Errorf("postgres: rollback to savepoint: %w", err), true)
			}
			p.push(releaseSQL)
		case fnErr != nil:
			p.push(rollbackToSQL)
			p.push(releaseSQL)
		case i < len(live)-1:
			p.push(releaseSQL) // the last one is released by the commit
		}
		if w.c.lockWait && i > 0 {
			ran = i // it starts the next batch
			break
		}
		if i == 0 {
			p.push(batchLockWaitSQL) // for the Updates after the first
		}
		answers[i] = answer{err: fnErr}
		if fnErr == nil {
			maps.Copy(evented, w.evented)
			appended += w.appended
			events = append(events, w.events...)
		}
	}
	if !p.begun() && p.writes == 0 && len(events) == 0 {
		return answers[:ran], ran // nothing was sent: nothing to commit
	}
	if shared {
		// NOTIFY takes a database-wide lock at commit, which every commit
		// that notifies waits for: that wait is no deadlock.
		p.push(noLockWaitSQL)
	}
	// Once every fn has run the commit is not canceled half-way: a canceled
	// ctx could otherwise report a failure for writes that then commit.
	var tag pgconn.CommandTag
	if len(events) > 0 || len(evented) > 0 {
		// The events wait for their bots' counter rows in this round trip.
		// A lone Update waits for them under its caller's ctx, as for its
		// queued writes above: canceled, the wait ends in an error, and the
		// COMMIT after it does not run.
		canceled := func() bool { return false }
		if !shared && ctx.Done() != nil {
			if err := ctx.Err(); err != nil {
				answers, _ = fail(err, false) // nothing is sent: nothing commits
				return answers[:ran], ran
			}
			canceled = p.cancelOnDone(ctx)
		}
		var before bool
		tag, before, err = commitEvents(context.WithoutCancel(ctx), p, s.opts.channel, events, evented)
		if canceled() && err != nil {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		if err != nil && before {
			answers, _ = fail(fmt.Errorf("postgres: append events: %w", err), isRetryable(err) || shared)
			return answers[:ran], ran
		}
	} else {
		tag, err = p.end(context.WithoutCancel(ctx), `COMMIT`)
	}
	if err != nil {
		// A commit whose outcome is unknown (a lost connection) is not run
		// again: it may have committed.
		answers, _ = fail(fmt.Errorf("postgres: commit: %w", err), isRetryable(err))
		return answers[:ran], ran
	}
	if tag.String() == "ROLLBACK" {
		// A statement failed unseen (a queued one): nothing committed, so a
		// shared batch runs again one Update at a time.
		answers, _ = fail(errors.New("postgres: commit: a statement failed earlier in the transaction"), shared)
		return answers[:ran], ran
	}
	s.opts.observer.Committed(ran, appended)
	s.events.Wake(evented)
	return answers[:ran], ran
}

// WithMaxBatch sets how many Updates one transaction takes at most
// (DefaultMaxBatch); 1 commits every Update on its own.
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// lanes are the goroutines that commit Updates and record nonces.
type lanes struct {
	reqs      chan *request      // unbuffered: to an idle lane, or waiting to join a batch
	nonceReqs chan *nonceRequest // the same for UseNonce
	closing   chan struct{}      // closed by close
	// idle counts the Update lanes not working on a batch. A lane takes the
	// Updates waiting to be handed over into its batch only when no other
	// lane is idle: while one is, it takes them one by one, so that Updates
	// handed over at once while the store is quiet run side by side.
	idle atomic.Int32
	wg   sync.WaitGroup
}

// startLanes starts the lanes for a pool of maxConns connections.
func (s *Store) startLanes(maxConns int) {
	l := &s.lanes
	l.reqs = make(chan *request)
	l.nonceReqs = make(chan *nonceRequest)
	l.closing = make(chan struct{})
	n := max(min(DefaultLanes, maxConns/2), 1)
	l.idle.Store(int32(n)) // idle from the start, before each reaches its receive
	for range n {
		l.wg.Go(s.lane)
	}
	for range nonceLanes {
		l.wg.Go(s.nonceLane)
	}
}

// close stops the lanes once their batches are done; Updates and UseNonces
// still waiting to be handed over fail with ErrClosed.
func (l *lanes) close() {
	close(l.closing)
	l.wg.Wait()
}
