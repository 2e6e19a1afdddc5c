package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// request is one Update, or one UseNonce, waiting for the writer.
type request struct {
	ctx    context.Context
	fn     func(*writer) error // nil for a UseNonce
	nonce  *nonceUse           // recorded before fn runs; nil for most Updates
	done   chan error          // buffered, so that answering never blocks the writer
	queued time.Time           // when Update queued it
	// appended is how many events fn appended, once it succeeded.
	appended int
}

// Each Update of a batch runs inside this savepoint, so that a failing one
// is undone alone.
var (
	savepoint  = writeSQL(`SAVEPOINT u`)
	rollbackTo = writeSQL(`ROLLBACK TO u`)
	release    = writeSQL(`RELEASE u`)
)

// write is the writer goroutine: it takes every Update queued at the moment
// (up to maxBatch) and commits them together, so that many writers share one
// fsync. It returns when Close has closed the queue and it is drained.
func (s *Store) write() {
	defer close(s.done)
	batch := make([]*request, 0, s.opts.maxBatch)
	for r := range s.reqs {
		batch = append(batch[:0], r)
	more:
		for len(batch) < s.opts.maxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commit(batch)
		clear(batch) // let finished requests be collected
	}
}

// commit runs batch in one transaction, each request in its own savepoint,
// commits once and answers every request: fn's error, or the commit's.
func (s *Store) commit(batch []*request) {
	// A caller that gave up before its request was taken gets ctx.Err(), and fn does not run.
	live := make([]*request, 0, len(batch))
	for _, r := range batch {
		s.opts.observer.Waited(time.Since(r.queued))
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}

	// The statements use the writer's own context: cancelling a caller's
	// context must not interrupt a transaction shared with other callers.
	ctx := context.Background()
	sqlTx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("sqlite: begin: %w", err)
		for _, r := range live {
			r.done <- err
		}
		return
	}
	c := newDBTx(ctx, sqlTx, s.wstmts)
	defer func() { s.statements.Add(c.statements) }()
	if s.freshCache {
		s.cache = newCache()
	}
	foreign, err := s.cache.begin(c)
	if err != nil {
		s.fail(live, errors.Join(err, sqlTx.Rollback()))
		return
	}
	errs := make([]error, len(live))
	evented := make(map[string]int64)
	var handed handoff
	for i, r := range live {
		fnErr, txErr := s.apply(c, r, evented, &handed)
		if txErr != nil {
			// The transaction cannot go on: roll all of it back. The
			// requests that ran have lost their writes and fail; the ones
			// that did not run go into a new transaction.
			txErr = errors.Join(txErr, sqlTx.Rollback())
			s.cache = newCache()
			for j := range errs[:i] {
				if errs[j] == nil {
					errs[j] = txErr
				}
			}
			errs[i] = txErr
			if fnErr != nil {
				errs[i] = fnErr
			}
			answer(live[:i+1], errs)
			s.commit(live[i+1:])
			return
		}
		errs[i] = fnErr
	}
	err = s.cache.flush(c)
	if err != nil {
		err = errors.Join(err, sqlTx.Rollback())
	} else if err = sqlTx.Commit(); err != nil {
		err = fmt.Errorf("sqlite: commit: %w", err)
	}
	if err != nil {
		s.cache = newCache()
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		answer(live, errs)
		return
	}
	for _, r := range live {
		if r.nonce != nil {
			r.nonce.known = true
		}
	}
	s.commits.Add(1)
	s.updates.Add(int64(len(live)))
	events := 0
	for i, r := range live {
		if errs[i] == nil {
			events += r.appended
		}
	}
	s.opts.observer.Committed(len(live), events)
	if foreign {
		// Another connection committed: what it changed was not handed.
		s.events.DropFeeds()
	}
	s.events.Hand(handed.evs, handed.users) // before the wake: a woken reader finds them
	s.events.Wake(evented)                  // before answering: see store.Waiters.Wake
	answer(live, errs)
}

// fail answers every request with err, the batch's transaction gone.
func (s *Store) fail(rs []*request, err error) {
	s.cache = newCache()
	for _, r := range rs {
		r.done <- err
	}
}

func answer(rs []*request, errs []error) {
	for i, r := range rs {
		r.done <- errs[i]
	}
}

// apply runs one request inside the savepoint. fnErr is what the request
// answers; txErr means the shared transaction is broken. The bots of a
// successful request's events are added to evented, and what it hands to
// the feeds to handed.
//
// A request's nonce is recorded before the savepoint, so that it stays when
// fn fails. It needs no savepoint of its own: its one statement either
// changes its row or fails, and a failing insert means the database is in
// trouble, so it is treated as a broken transaction. A live nonce fails the
// request without running fn.
func (s *Store) apply(c *dbtx, r *request, evented map[string]int64, handed *handoff) (fnErr, txErr error) {
	if u := r.nonce; u != nil {
		var err error
		if u.fresh, err = useNonceIn(c, u.key, u.expires, u.now); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		if !u.fresh && r.fn != nil {
			return errNonceLive, nil
		}
	}
	if r.fn == nil {
		return nil, nil
	}
	if _, err := c.exec(savepoint); err != nil {
		return nil, fmt.Errorf("sqlite: savepoint: %w", err)
	}
	w := &writer{reader: reader{c: c}, cache: s.cache}
	if fnErr = s.call(w, r.fn); fnErr != nil {
		s.cache.rollback()
		if _, err := c.exec(rollbackTo); err != nil {
			return fnErr, fmt.Errorf("sqlite: rollback to savepoint: %w", err)
		}
	}
	s.cache.keep()
	if _, err := c.exec(release); err != nil {
		return fnErr, fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	if fnErr == nil {
		for id, seq := range w.evented {
			evented[id] = seq
		}
		r.appended = w.appended
		handed.add(w)
	}
	return fnErr, nil
}

// call runs fn, turning a panic into an EInternal error so that the writer
// (and every other Update of the batch) survives a bug in one of them.
func (s *Store) call(w *writer, fn func(*writer) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.opts.logger.Error("sqlite: panic in update", "panic", v, "stack", string(debug.Stack()))
			err = group.Errorf(group.EInternal, "panic in update: %v", v)
		}
	}()
	return fn(w)
}
