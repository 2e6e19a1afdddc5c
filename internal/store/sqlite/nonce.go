package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// A nonce is taken when it is new or its record has expired: the insert or
// the update changes a row. A live record makes it change none.
var useNonce = writeSQL(`INSERT INTO nonces (key, expires_at) VALUES (?1, ?2)
	ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?3`)

// UseNonce implements group.Tx.
func (w *writer) UseNonce(key string, expires, now time.Time) (bool, error) {
	return useNonceIn(w.c, key, expires, now)
}

func useNonceIn(c *dbtx, key string, expires, now time.Time) (bool, error) {
	// The key is a client's: it is not repeated in the error.
	res, err := c.exec(useNonce, key, expires.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("use nonce: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use nonce: %w", err)
	}
	return n > 0, nil
}

// nonceUse is a nonce for the writer to record, and its answer, which the
// writer sets before it answers the request.
type nonceUse struct {
	key          string
	expires, now time.Time
	fresh        bool // the nonce was recorded; false: a live record was there
	known        bool // fresh is the answer: the transaction that recorded it, or found it live, committed
}

// UseNonce records key until expires unless a record of it has not expired
// at now (expires <= now), and reports whether it recorded it. It returns
// once the record is committed: the writer takes it into the next group
// commit with the Updates and nonces queued beside it, one statement each, so
// many signed calls share one commit.
func (s *Store) UseNonce(ctx context.Context, key string, expires, now time.Time) (bool, error) {
	u := &nonceUse{key: key, expires: expires, now: now}
	if err := s.queue(ctx, &request{ctx: ctx, nonce: u}); err != nil {
		return false, err
	}
	return u.fresh, nil
}

// boundNonce is a nonce bound to a context by BindNonce, waiting for the
// first Update made with that context to claim it.
type boundNonce struct {
	store   *Store
	use     nonceUse
	claimed atomic.Bool
}

type boundNonceKey struct{}

// errNonceLive is what an Update answers, without running its function, when
// the nonce bound to its context has a live record.
var errNonceLive = errors.New("sqlite: the nonce bound to this update was used already")

// BindNonce returns ctx with a nonce bound to it, so that a signed write
// records its nonce in its own transaction instead of waiting for a commit of
// its own. The first Update of this Store made with the returned context (or
// one derived from it) records the nonce before running its function, as
// UseNonce would, outside the function's savepoint: the record stays even
// if the function fails. If the nonce has a live record the Update fails
// without running its function.
//
// result reports, once that Update has returned, whether the nonce was
// recorded (fresh) and whether that answer is known (ok): it is not when no
// Update claimed the nonce or its transaction did not commit, and then the
// caller uses UseNonce.
func (s *Store) BindNonce(ctx context.Context, key string, expires, now time.Time) (_ context.Context, result func() (fresh, ok bool)) {
	b := &boundNonce{store: s, use: nonceUse{key: key, expires: expires, now: now}}
	return context.WithValue(ctx, boundNonceKey{}, b), func() (bool, bool) {
		if !b.claimed.Load() {
			return false, false
		}
		return b.use.fresh, b.use.known
	}
}

// claimNonce returns the nonce bound to ctx for this store, if no Update has
// claimed it yet.
func (s *Store) claimNonce(ctx context.Context) *nonceUse {
	b, _ := ctx.Value(boundNonceKey{}).(*boundNonce)
	if b == nil || b.store != s || !b.claimed.CompareAndSwap(false, true) {
		return nil
	}
	return &b.use
}
