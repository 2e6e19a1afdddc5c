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
	for _, id := range []string{"resumed", "idle"} {
		err := a.UpdateSession(t.Context(), id, func(group.Reader, group.Session, bool) (group.Session, bool, error) {
			return group.Session{ID: id, BotID: "bot1", CreatedAt: stale, UpdatedAt: stale}, true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	held, release := make(chan struct{}), make(chan struct{})
	signalHeld, releaseResume := sync.OnceFunc(func() { close(held) }), sync.OnceFunc(func() { close(release) })
	defer releaseResume()
	resumed := make(chan error, 1)
	go func() {
		// As a resume does: the session is read (locked) and its refresh
		// decided; the transaction stays open until release.
		resumed <- a.UpdateSession(context.Background(), "resumed", func(_ group.Reader, sess group.Session, _ bool) (group.Session, bool, error) {
			sess.UpdatedAt = fresh
			signalHeld()
			<-release
			return sess, true, nil
		})
	}()
	<-held

	var deleted int
	pruned := make(chan error, 1)
	go func() {
		var err error
		deleted, err = b.Prune(context.Background(), time.UnixMilli(0), cutoff, time.UnixMilli(0), time.UnixMilli(0), 10)
		pruned <- err
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
	if sess, err := b.Session(t.Context(), "resumed"); err != nil || !sess.UpdatedAt.Equal(fresh) {
		t.Errorf("the session resumed during the prune: %+v, %v; want it kept, updated at %v", sess, err, fresh)
	}
	if _, err := b.Session(t.Context(), "idle"); !group.IsNotExist(err) {
		t.Errorf("the idle session after the prune: %v, want ENotExist", err)
	}
}
