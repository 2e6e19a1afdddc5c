package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// Two groups hold the same two bots, which joined them in opposite orders.
// Concurrent @all messages in both append events for both bots in each
// transaction; the domain visits bots in id order, so the transactions lock
// the bots' counter rows in one order and never deadlock. The store gets one
// attempt per Update: a deadlock would surface as an error, not a retry.
func TestNoDeadlockOnSharedBots(t *testing.T) {
	_, svc := twoBotService(t)
	ctx := context.Background()
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

// TestNoDeadlockOnGroupWrites: concurrent writes to two groups, each of
// which locks the group first (member/add reads it with its members, count
// and bots in one batch: GroupJoining), then robot marks, member rows and,
// at the commit, bots' event counters: member/add of one member and of
// several (a member listed twice), kick, quit, roles, group/modify,
// transfer, dismiss and create again, @all messages, and users becoming
// robots while members (PutBot's robot-mark lock). The store gets one
// attempt per Update: a deadlock would surface as an error, not a retry.
// The domain's own refusals (not a member, already a member, a dismissed
// group) are expected; any other error is not. Then every group's member
// count is its active rows'.
func TestNoDeadlockOnGroupWrites(t *testing.T) {
	st, svc := twoBotService(t)
	ctx := context.Background()
	gids := []string{"ga", "gb"}
	create := func(g string) error {
		_, err := svc.CreateGroup(ctx, group.Admin, group.CreateGroupInput{Group: group.Group{ID: g, Owner: "o-" + g},
			Members: []group.Member{{UserID: "b1"}, {UserID: "b2"}}})
		return err
	}
	for _, g := range gids {
		if err := create(g); err != nil {
			t.Fatal(err)
		}
	}
	const workers, ops = 8, 200
	var wg sync.WaitGroup
	var done [10]atomic.Int64 // the writes that went through, by op
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			user := func() string { return fmt.Sprint("u", r.IntN(12)) }
			for i := range ops {
				g, u := gids[r.IntN(len(gids))], user()
				var err error
				op := r.IntN(len(done))
				switch op {
				case 0, 1:
					err = svc.AddMembers(ctx, group.Admin, g, []group.Member{{UserID: u}}, group.Notify{})
				case 2:
					err = svc.AddMembers(ctx, group.Robot("b1"), g, []group.Member{{UserID: u}, {UserID: user()}, {UserID: u}}, group.Notify{})
				case 3:
					err = svc.KickMembers(ctx, group.Admin, g, []string{u, user()}, group.Notify{})
				case 4:
					err = svc.SetManagers(ctx, group.Admin, g, []string{u}, r.IntN(2) == 0, group.Notify{})
				case 5:
					err = svc.ModifyGroup(ctx, group.Admin, g, 0, fmt.Sprint("name ", w, i), group.Notify{})
				case 6:
					_, err = svc.SendMessage(ctx, group.SendInput{Sender: "b2", ConvType: group.ConvGroup, Target: g,
						Payload: group.Payload{Type: group.ContentText, SearchableContent: fmt.Sprint(w, i), MentionedType: group.MentionAll}})
				case 7:
					err = svc.TransferGroup(ctx, group.Admin, g, u, group.Notify{})
				case 8:
					if _, _, err = svc.CreateRobot(ctx, group.RobotInput{User: group.User{ID: u, Name: u}}); group.ErrorCode(err) == group.EConflict {
						err = nil // a robot already
					}
				case 9:
					if err = svc.QuitGroup(ctx, group.AsUser(u), g, group.Notify{}); err == nil && r.IntN(8) == 0 {
						if err = svc.DismissGroup(ctx, group.Admin, g, group.Notify{}); err == nil {
							err = create(g)
						}
					}
				}
				if err == nil {
					done[op].Add(1)
				}
				switch group.ErrorCode(err) {
				case group.ENotExist, group.ENotInGroup, group.EAlreadyMember, group.ENotRight, group.EGroupExists:
				default:
					if err != nil {
						t.Errorf("worker %d op %d: %v", w, i, err)
					}
				}
			}
		})
	}
	wg.Wait()
	counts := make([]int64, len(done))
	for op := range done {
		counts[op] = done[op].Load()
	}
	t.Logf("writes that went through, by kind: %v", counts)
	for op := range done {
		// Each kind of write went through at least once: the run tested
		// them against each other, not only the domain's refusals.
		if done[op].Load() == 0 {
			t.Errorf("no write of kind %d went through", op)
		}
	}
	var wrong []string
	if err := st.pool.QueryRow(ctx, `SELECT coalesce(array_agg(g ORDER BY g), '{}') FROM (
		SELECT coalesce(c.group_id, m.group_id) AS g FROM member_counts c FULL JOIN
			(SELECT group_id, count(*) AS n FROM members WHERE type <> 4 GROUP BY group_id) m ON m.group_id = c.group_id
		WHERE coalesce(c.active, 0) <> coalesce(m.n, 0)) AS x`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("member counts of %q differ from their active rows", wrong)
	}
}

// twoBotService is a service on a store that gives each Update one attempt
// (a deadlock surfaces as an error, not a retry), with robots b1 and b2.
func twoBotService(t *testing.T) (*Store, *group.Service) {
	t.Helper()
	dsn := testDSN(t)
	st := testOpen(t, dsn, testSchema(t, dsn), WithMaxAttempts(1), WithMaxConns(8))
	svc := group.NewService(st, group.Config{})
	for _, id := range []string{"b1", "b2"} {
		if _, _, err := svc.CreateRobot(context.Background(), group.RobotInput{User: group.User{ID: id, Name: id}}); err != nil {
			t.Fatal(err)
		}
	}
	return st, svc
}
