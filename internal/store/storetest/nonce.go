package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/wildfire"
)

// useNonce calls UseNonce and fails the test on error.
func useNonce(t *testing.T, ns wildfire.NonceStore, key string, expires, now time.Time) bool {
	t.Helper()
	fresh, err := ns.UseNonce(t.Context(), key, expires, now)
	if err != nil {
		t.Fatalf("UseNonce(%s): %v", key, err)
	}
	return fresh
}

// testNonceStore checks UseNonce: the rules of Tx.UseNonce, on the same
// records, one committed use at a time.
func testNonceStore(t *testing.T, s Store) {
	steps := []struct {
		name    string
		key     string
		expires time.Time
		now     time.Time
		want    bool
	}{
		{"fresh", "n1", at(5 * time.Minute), t0, true},
		{"replay", "n1", at(6 * time.Minute), at(time.Minute), false},
		{"replay just before expiry", "n1", at(10 * time.Minute), at(5*time.Minute - time.Millisecond), false},
		{"other key", "n2", at(5 * time.Minute), at(time.Minute), true},
		{"after expiry", "n1", at(20 * time.Minute), at(6 * time.Minute), true},
		{"replay of the renewed record", "n1", at(30 * time.Minute), at(19 * time.Minute), false},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			diff(t, "UseNonce", step.want, useNonce(t, s, step.key, step.expires, step.now))
		})
	}
	t.Run("SameRecordsAsTx", func(t *testing.T) {
		if !useNonce(t, s, "n3", at(time.Hour), t0) {
			t.Fatal("n3 not fresh")
		}
		var fresh bool
		update(t, s, func(tx group.Tx) (err error) {
			if fresh, err = tx.UseNonce("n3", at(time.Hour), t0); err != nil {
				return err
			}
			_, err = tx.UseNonce("n4", at(time.Hour), t0)
			return err
		})
		diff(t, "Tx.UseNonce after UseNonce", false, fresh)
		diff(t, "UseNonce after Tx.UseNonce", false, useNonce(t, s, "n4", at(time.Hour), t0))
	})
}

// testNonceStoreConcurrent uses nonces from many goroutines at once, beside
// Updates, so that a store that batches commits puts many in one: each key
// is fresh exactly once, and the Updates commit as usual.
func testNonceStoreConcurrent(t *testing.T, s Store) {
	const keys, uses = 20, 5
	var fresh [keys]atomic.Int32
	errs := make(chan error, keys*uses+keys)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range keys {
		for range uses {
			wg.Go(func() {
				<-start
				ok, err := s.UseNonce(t.Context(), "c"+strconv.Itoa(k), at(time.Hour), t0)
				if err != nil {
					errs <- err
				}
				if ok {
					fresh[k].Add(1)
				}
			})
		}
		wg.Go(func() {
			<-start
			errs <- s.Update(t.Context(), func(tx group.Tx) error {
				return tx.PutUser(group.User{ID: "s" + strconv.Itoa(k), Name: "v"})
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent use: %v", err)
		}
	}
	for k := range keys {
		if n := fresh[k].Load(); n != 1 {
			t.Errorf("key c%d fresh %d times out of %d concurrent uses, want once", k, n, uses)
		}
		diff(t, "user written beside the nonces", "v", userName(t, s, "s"+strconv.Itoa(k)))
	}
}

// testBoundNonce checks BindNonce: the first Update made with the context
// records the nonce in its own transaction, a live nonce fails the Update
// with none of its writes committed (a store may run fn before it knows:
// PostgreSQL sends the nonce with fn's first statement), and the result
// tells the door what happened.
func testBoundNonce(t *testing.T, s Store) {
	expires := at(time.Hour)
	bind := func(key string) (context.Context, func() (bool, bool)) {
		return s.BindNonce(t.Context(), key, expires, t0)
	}
	wantResult := func(t *testing.T, what string, result func() (bool, bool), fresh, ok bool) {
		t.Helper()
		gotFresh, gotOK := result()
		diff(t, what+": result ok", ok, gotOK)
		if ok {
			diff(t, what+": result fresh", fresh, gotFresh)
		}
	}

	t.Run("Write", func(t *testing.T) {
		ctx, result := bind("b1")
		// A derived context carries the nonce too.
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.Update(ctx, func(tx group.Tx) error { return tx.PutUser(group.User{ID: "b1", Name: "written"}) }); err != nil {
			t.Fatalf("Update: %v", err)
		}
		wantResult(t, "after the write", result, true, true)
		diff(t, "the write", "written", userName(t, s, "b1"))
		diff(t, "UseNonce of the recorded nonce", false, useNonce(t, s, "b1", expires, t0))

		// Only the first Update claims it: a second one with the same
		// context is an ordinary Update.
		if err := s.Update(ctx, func(tx group.Tx) error { return tx.PutUser(group.User{ID: "b1", Name: "again"}) }); err != nil {
			t.Fatalf("second Update with the context: %v", err)
		}
		wantResult(t, "after the second write", result, true, true)
	})
	t.Run("Replay", func(t *testing.T) {
		if !useNonce(t, s, "b2", expires, t0) {
			t.Fatal("b2 not fresh")
		}
		ctx, result := bind("b2")
		err := s.Update(ctx, func(tx group.Tx) error {
			if err := tx.PutUser(group.User{ID: "b2", Name: "replayed"}); err != nil {
				return err
			}
			// Reads after the write: a store that learns of the live
			// record with them must fail the Update all the same.
			_, err := tx.User("b2")
			return err
		})
		if err == nil {
			t.Fatal("Update with a live nonce succeeded")
		}
		wantResult(t, "after the replay", result, false, true)
		wantNotExist(t, s, "the replay's write", func(r group.Reader) (group.User, error) { return r.User("b2") })
	})
	t.Run("FailedWrite", func(t *testing.T) {
		// The write fails: a store may keep the nonce or roll it back with
		// the rest, and result says which.
		ctx, result := bind("b3")
		if err := s.Update(ctx, func(tx group.Tx) error {
			if err := tx.PutUser(group.User{ID: "b3", Name: "rolled back"}); err != nil {
				return err
			}
			return errTest
		}); !errors.Is(err, errTest) {
			t.Fatalf("Update: %v, want fn's error", err)
		}
		wantNotExist(t, s, "the failed write", func(r group.Reader) (group.User, error) { return r.User("b3") })
		fresh, ok := result()
		if ok && !fresh {
			t.Fatal("result: a new nonce reported live")
		}
		diff(t, "UseNonce after the failed write (fresh unless result said it was recorded)", !ok,
			useNonce(t, s, "b3", expires, t0))
	})
	t.Run("NoUpdate", func(t *testing.T) {
		// A request that writes nothing leaves the nonce to UseNonce.
		_, result := bind("b4")
		wantResult(t, "without an Update", result, false, false)
		diff(t, "UseNonce", true, useNonce(t, s, "b4", expires, t0))
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Identical bound writes at once, as a replay racing the original:
		// exactly one succeeds, and only its write commits.
		const n = 10
		var succeeded atomic.Int32
		results := make([]func() (bool, bool), n)
		var wg sync.WaitGroup
		for i := range n {
			ctx, result := bind("b5")
			results[i] = result
			wg.Go(func() {
				err := s.Update(ctx, func(tx group.Tx) error {
					return tx.PutUser(group.User{ID: "b5-" + strconv.Itoa(i), Name: "v"})
				})
				if err == nil {
					succeeded.Add(1)
				}
			})
		}
		wg.Wait()
		diff(t, "writes that succeeded", int32(1), succeeded.Load())
		written := 0
		for i := range n {
			err := s.View(t.Context(), func(r group.Reader) error { _, err := r.User("b5-" + strconv.Itoa(i)); return err })
			if err == nil {
				written++
			} else if !group.IsNotExist(err) {
				t.Fatalf("read user: %v", err)
			}
		}
		diff(t, "writes committed", 1, written)
		var fresh int
		for _, result := range results {
			if f, ok := result(); ok && f {
				fresh++
			}
		}
		diff(t, "results reporting the nonce fresh", 1, fresh)
	})
}

// userName reads the name of user id.
func userName(t *testing.T, s Store, id string) string {
	t.Helper()
	return read(t, s, func(r group.Reader) (group.User, error) { return r.User(id) }).Name
}
