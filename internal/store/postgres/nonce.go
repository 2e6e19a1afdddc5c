package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/store"
)

// A nonce is taken when it is new or its record has expired: the insert or
// the update changes a row. A live record makes it change none; a concurrent
// use of the same nonce waits for the first to commit.
const useNonce = `INSERT INTO nonces AS n (key, expires_at) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE n.expires_at <= $3`

// UseNonce implements group.Tx.
func (w *writer) UseNonce(key string, expires, now time.Time) (bool, error) {
	// The nonce is a client's: it is not repeated in the error.
	tag, err := w.c.exec("use nonce", useNonce, key, millis(expires), millis(now))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// boundNonce is a nonce bound to a context by BindNonce, waiting for the
// first Update made with that context to claim it. Its answer is set by the
// Update before it returns.
type boundNonce struct {
	store        *Store
	key          string
	expires, now time.Time
	claimed      atomic.Bool
	fresh, known bool
}

type boundNonceKey struct{}

// errNonceLive is what an Update answers, none of its function's writes
// committed, when the nonce bound to its context has a live record.
var errNonceLive = errors.New("postgres: the nonce bound to this update was used already")

// BindNonce returns ctx with a nonce bound to it, so that a signed write
// records its nonce in its own transaction instead of one of its own. The
// first Update of this Store made with the returned context (or one derived
// from it) records the nonce first, as UseNonce would; if the nonce has a
// live record the Update fails and none of its function's writes commit (in
// a batch the function runs before the answer is in: the nonce goes with its
// first statement). If the function fails the record is rolled back with
// the rest.
//
// result reports, once that Update has returned, whether the nonce was
// recorded (fresh) and whether that answer is known (ok): it is not when no
// Update claimed the nonce or its transaction did not commit, and then the
// caller uses UseNonce.
func (s *Store) BindNonce(ctx context.Context, key string, expires, now time.Time) (_ context.Context, result func() (fresh, ok bool)) {
	b := &boundNonce{store: s, key: key, expires: expires, now: now}
	return context.WithValue(ctx, boundNonceKey{}, b), func() (bool, bool) {
		if !b.claimed.Load() {
			return false, false
		}
		return b.fresh, b.known
	}
}

// claimNonce returns the nonce bound to ctx for this store, if no Update has
// claimed it yet.
func (s *Store) claimNonce(ctx context.Context) *boundNonce {
	b, _ := ctx.Value(boundNonceKey{}).(*boundNonce)
	if b == nil || b.store != s || !b.claimed.CompareAndSwap(false, true) {
		return nil
	}
	return b
}

// nonceUse is one attempt's record of a bound nonce.
type nonceUse struct {
	b       *boundNonce
	checked bool // its statement's answer is in
	live    bool // and says the nonce had a live record
}

// useBound records b in the transaction of w, first thing. In a batch the
// statement is queued in front of fn's first one, which carries it in its
// round trip: a live record then fails that statement with errNonceLive
// (fn's statements after it have run, and are rolled back with it).
func (w *writer) useBound(b *boundNonce) (*nonceUse, error) {
	u := &nonceUse{b: b}
	check := func(tag pgconn.CommandTag) error {
		u.checked, u.live = true, tag.RowsAffected() == 0
		if u.live {
			b.fresh, b.known = false, true
			return errNonceLive
		}
		return nil
	}
	p, ok := w.c.tx.(*pipe)
	if !ok {
		tag, err := w.c.exec("use nonce", useNonce, b.key, millis(b.expires), millis(b.now))
		if err != nil {
			return u, err
		}
		return u, check(tag)
	}
	args := []any{b.key, millis(b.expires), millis(b.now)}
	if !store.ValidArgs(args...) {
		return u, store.InvalidText("use nonce")
	}
	p.pushWrite(func(err error) error { return w.c.fail("use nonce", err) }, check, useNonce, args...)
	return u, nil
}

// settle makes sure the nonce's answer is in before fn's writes can commit
// (a queued nonce never rides with the COMMIT: it could not stop it), and
// fails the attempt if the record was live, whatever fn made of the error.
func (u *nonceUse) settle(w *writer) error {
	if !u.checked {
		if _, err := w.c.tx.Exec(w.c.ctx, `SELECT 1`); err != nil && !errors.Is(err, errNonceLive) {
			return w.c.fail("use nonce", err)
		}
	}
	if u.live {
		return errNonceLive
	}
	return nil
}

// Nonces shared by every node: a signed call records its nonce outside any
// Update, and the calls that arrive together share one statement.
const (
	// DefaultMaxNonceBatch is how many nonces one statement records at most.
	DefaultMaxNonceBatch = 256
	// nonceLanes is how many nonce statements run at once: one in flight
	// while the next batch gathers, and one more so that a slow one (an
	// insert waiting for a concurrent use of the same nonce) holds up no
	// other call.
	nonceLanes = 2
)

// useNonces takes each nonce that is new or whose record has expired (as
// useNonce) and returns the ones taken. Autocommit: the table is unlogged, so
// the statement's commit waits for no WAL flush. The keys come sorted, so two
// batches that share keys (a replay to two nodes at once) lock them in one
// order and cannot deadlock.
const useNonces = `INSERT INTO nonces AS n (key, expires_at)
	SELECT * FROM unnest($1::text[], $2::bigint[])
	ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE n.expires_at <= $3
	RETURNING key`

// nonceRequest is one UseNonce waiting for a nonce lane.
type nonceRequest struct {
	key          string
	expires, now int64            // Unix milliseconds
	done         chan nonceAnswer // buffered
}

type nonceAnswer struct {
	fresh bool
	err   error
}

// UseNonce records key until expires unless a record of it has not expired
// at now (expires <= now), and reports whether it recorded it, for every node
// of the database at once. It is committed on its own, outside any Update,
// and concurrent calls share one statement (see nonceLane): a signed call
// costs a fraction of a round trip, where an Update of its own takes three.
func (s *Store) UseNonce(ctx context.Context, key string, expires, now time.Time) (fresh bool, err error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !store.ValidArgs(key) {
		// Refused here: in the shared statement it would fail every nonce.
		return false, store.InvalidText("use nonce")
	}
	r := &nonceRequest{key: key, expires: millis(expires), now: millis(now), done: make(chan nonceAnswer, 1)}
	select {
	case s.lanes.nonceReqs <- r:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.lanes.closing:
		return false, ErrClosed
	}
	a := <-r.done
	return a.fresh, a.err
}

// nonceLane records the nonce it takes (waiting for one) and every nonce
// whose caller is waiting to hand it over, up to DefaultMaxNonceBatch, in one
// statement. It returns when the store closes.
func (s *Store) nonceLane() {
	batch := make([]*nonceRequest, 0, DefaultMaxNonceBatch)
	for {
		select {
		case r := <-s.lanes.nonceReqs:
			batch = append(batch[:0], r)
		case <-s.lanes.closing:
			return
		}
	more:
		for len(batch) < DefaultMaxNonceBatch {
			select {
			case r := <-s.lanes.nonceReqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		fresh, err := s.useNonces(batch)
		for i, r := range batch {
			r.done <- nonceAnswer{fresh: fresh[i], err: err}
		}
		clear(batch)
	}
}

// useNonces records batch in one statement and reports which were fresh. A
// key that comes twice is fresh at most the first time. The batch's now is
// the latest of its calls': the statement runs after all of them.
func (s *Store) useNonces(batch []*nonceRequest) ([]bool, error) {
	fresh := make([]bool, len(batch))
	first := make(map[string]int, len(batch)) // key → its first request
	var now int64
	for i, r := range batch {
		if _, ok := first[r.key]; !ok {
			first[r.key] = i
		}
		now = max(now, r.now)
	}
	keys := make([]string, 0, len(first))
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	expires := make([]int64, len(keys))
	for i, k := range keys {
		expires[i] = batch[first[k]].expires
	}
	rows, err := s.pool.Query(context.Background(), useNonces, keys, expires, now)
	if err != nil {
		return fresh, s.nonceError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return make([]bool, len(batch)), s.nonceError(err)
		}
		fresh[first[k]] = true
	}
	if err := rows.Err(); err != nil {
		return make([]bool, len(batch)), s.nonceError(err)
	}
	return fresh, nil
}

// nonceError does not repeat the nonces: they are the clients'.
func (s *Store) nonceError(err error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("postgres: use nonces: %w", err)
}
