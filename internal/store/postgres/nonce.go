package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
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

// UseNonce records key until expires unless a record of it has not expired
// at now (expires <= now), and reports whether it recorded it, for every node
// of the database at once. It is one statement, committed on its own: one
// round trip, where an Update takes three.
func (s *Store) UseNonce(ctx context.Context, key string, expires, now time.Time) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	tag, err := s.pool.Exec(ctx, useNonce, key, millis(expires), millis(now))
	if err != nil {
		if s.closed.Load() {
			return false, ErrClosed
		}
		return false, fmt.Errorf("postgres: use nonce: %w", err)
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

// errNonceLive is what an Update answers, without running its function, when
// the nonce bound to its context has a live record.
var errNonceLive = errors.New("postgres: the nonce bound to this update was used already")

// BindNonce returns ctx with a nonce bound to it, so that a signed write
// records its nonce in its own transaction instead of one of its own. The
// first Update of this Store made with the returned context (or one derived
// from it) records the nonce first, as UseNonce would; if the nonce has a
// live record the Update fails without running its function. If the
// function fails the record is rolled back with the rest.
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

// useBound records b in the transaction of w, first thing.
func (w *writer) useBound(b *boundNonce) error {
	fresh, err := w.UseNonce(b.key, b.expires, b.now)
	if err != nil {
		return err
	}
	if !fresh {
		b.fresh, b.known = false, true
		return errNonceLive
	}
	return nil
}
