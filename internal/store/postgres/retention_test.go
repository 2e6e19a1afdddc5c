package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestPruneSkipsLockedRows: a prune neither waits for a row another
// transaction holds nor deletes it. A session that node A is resuming (read,
// so locked, and refreshed, not yet committed) survives a prune on node B,
// which returns without waiting for A; an idle session goes.
func TestPruneSkipsLockedRows(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	b := testOpen(t, dsn, schema)
	stale, cutoff, fresh := time.UnixMilli(1000), time.UnixMilli(2000), time.UnixMilli(3000)
	mustUpdate(t, a, func(tx group.Tx) error {
		for _, id := range []string{"resumed", "idle"} {
			if err := tx.PutSession(group.Session{ID: id, BotID: "bot1", CreatedAt: stale, UpdatedAt: stale}); err != nil {
				return err
			}
		}
		return nil
	})

	held, release := make(chan struct{}), make(chan struct{})
	signalHeld, releaseResume := sync.OnceFunc(func() { close(held) }), sync.OnceFunc(func() { close(release) })
	defer releaseResume()
	resumed := make(chan error, 1)
	go func() {
		resumed <- a.Update(context.Background(), func(tx group.Tx) error {
			sess, err := tx.Session("resumed")
			if err != nil {
				return err
			}
			sess.UpdatedAt = fresh
			if err := tx.PutSession(sess); err != nil {
				return err
			}
			signalHeld()
			<-release
			return nil
		})
	}()
	<-held

	var deleted int
	pruned := make(chan error, 1)
	go func() {
		pruned <- b.Update(context.Background(), func(tx group.Tx) (err error) {
			deleted, err = tx.Prune(time.UnixMilli(0), cutoff, time.UnixMilli(0), time.UnixMilli(0), 10)
			return err
		})
	}()
	select {
	case err := <-pruned:
		if err != nil {
			t.Fatalf("prune: %v", err)
		}
	case <-time.After(wakeTimeout):
		t.Fatalf("the prune still waits after %v for the session another transaction holds", wakeTimeout)
	}
	releaseResume()
	if err := <-resumed; err != nil {
		t.Fatalf("resume: %v", err)
	}

	if deleted != 1 {
		t.Errorf("the prune deleted %d rows, want 1: the idle session", deleted)
	}
	err := b.View(t.Context(), func(r group.Reader) error {
		if sess, err := r.Session("resumed"); err != nil || !sess.UpdatedAt.Equal(fresh) {
			t.Errorf("the session resumed during the prune: %+v, %v; want it kept, updated at %v", sess, err, fresh)
		}
		if _, err := r.Session("idle"); !group.IsNotExist(err) {
			t.Errorf("the idle session after the prune: %v, want ENotExist", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
