package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// Two groups hold the same two bots, which joined them in opposite orders.
// Concurrent @all messages in both append events for both bots in each
// transaction; the domain visits bots in id order, so the transactions lock
// the bots' counter rows in one order and never deadlock. The store gets one
// attempt per Update: a deadlock would surface as an error, not a retry.
func TestNoDeadlockOnSharedBots(t *testing.T) {
	dsn := testDSN(t)
	st := testOpen(t, dsn, testSchema(t, dsn), WithMaxAttempts(1), WithMaxConns(8))
	svc := group.NewService(st, group.Config{})
	ctx := context.Background()
	for _, id := range []string{"b1", "b2"} {
		if _, _, err := svc.CreateRobot(ctx, group.RobotInput{User: group.User{ID: id, Name: id}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []struct {
		id   string
		bots []string
	}{{"ga", []string{"b1", "b2"}}, {"gb", []string{"b2", "b1"}}} {
		if _, err := svc.CreateGroup(ctx, group.Admin, group.CreateGroupInput{Group: group.Group{ID: g.id, Owner: "u-" + g.id}}); err != nil {
			t.Fatal(err)
		}
		for _, b := range g.bots {
			if err := svc.AddMembers(ctx, group.Admin, g.id, []group.Member{{UserID: b}}, group.Notify{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const workers, sends = 6, 40
	errs := make(chan error, workers*sends)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gid := []string{"ga", "gb"}[w%2]
			for i := range sends {
				_, err := svc.SendMessage(ctx, group.SendInput{Sender: "u-" + gid, ConvType: group.ConvGroup, Target: gid,
					Payload: group.Payload{Type: group.ContentText, SearchableContent: fmt.Sprint(w, i), MentionedType: group.MentionAll}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("send: %v", err)
	}
}
