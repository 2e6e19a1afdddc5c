package postgres

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestRobotMarkRace: a user becomes a robot (PutBot) while another
// transaction adds it to a group (PutMembers). The first is held open after
// its write until the second has committed or is seen waiting for it; in
// either order, and with the second in a transaction of its own or in a
// shared batch (where it may wait only DefaultBatchLockWait, then runs again
// in the next batch), the membership ends marked: BotMembers names the bot,
// which would otherwise get no events in the group.
func TestRobotMarkRace(t *testing.T) {
	dsn := testDSN(t)
	putBot := func(w *writer) error {
		return w.PutBot(group.Bot{UserID: "r", Owner: "o", Secret: "s", UpdatedAt: time.UnixMilli(1)})
	}
	putMember := func(w *writer) error {
		return w.PutMember(group.Member{GroupID: "g", UserID: "r", Type: group.MemberNormal,
			JoinedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)})
	}
	for _, c := range []struct {
		name          string
		first, second func(*writer) error
		shared        bool
	}{
		{"bot first", putBot, putMember, false},
		{"member first", putMember, putBot, false},
		{"bot first, member in a batch", putBot, putMember, true},
		{"member first, bot in a batch", putMember, putBot, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testOpen(t, dsn, testSchema(t, dsn))
			ctx := t.Context()
			held := make(chan uint32, 1)
			release := make(chan struct{})
			var releaseOnce sync.Once
			let := func() { releaseOnce.Do(func() { close(release) }) }
			defer let()
			firstDone := make(chan error, 1)
			go func() {
				firstDone <- s.update(ctx, func(w *writer) error {
					if err := c.first(w); err != nil {
						return err
					}
					// A read sends the queued writes: the first has written
					// its row, and stays open until released.
					var pid uint32
					if err := w.c.scanOne("backend pid", []any{&pid}, `SELECT pg_backend_pid()`); err != nil {
						return err
					}
					held <- pid
					<-release
					return nil
				})
			}()
			var pid uint32
			select {
			case pid = <-held:
			case err := <-firstDone:
				t.Fatalf("first write: %v", err)
			}
			secondDone := make(chan error, 1)
			go func() {
				if !c.shared {
					secondDone <- s.update(ctx, c.second)
					return
				}
				errs := runShared(t, s, putSetting("x"), c.second)
				secondDone <- errs[1]
			}()
			// The second either commits without seeing the first or waits
			// for it; either way the first commits then.
			var secondErr error
			finished := false
			for deadline := time.Now().Add(10 * time.Second); !finished; {
				select {
				case secondErr = <-secondDone:
					finished = true
					continue
				default:
				}
				var n int
				if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, int32(pid)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the second write neither committed nor waited for the first")
				}
				time.Sleep(2 * time.Millisecond)
			}
			let()
			if err := <-firstDone; err != nil {
				t.Fatalf("first write: %v", err)
			}
			if !finished {
				secondErr = <-secondDone
			}
			if secondErr != nil {
				t.Fatalf("second write: %v", secondErr)
			}
			var bots []string
			if err := s.view(ctx, func(r *reader) (err error) { bots, err = r.BotMembers("g"); return err }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bots, []string{"r"}) {
				t.Errorf("BotMembers(g) = %q, want [r]: the robot's membership was left unmarked", bots)
			}
		})
	}
}
