package sqlite

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/storetest"
)

// benchWriters is how many goroutines per GOMAXPROCS the parallel cases run:
// a server has many more concurrent writers than cores.
const benchWriters = 16

// BenchmarkUpdate compares an empty Update (the writer round trip and a
// transaction that writes nothing, so no fsync) with one that inserts a
// member (a durable commit), each from one goroutine and from many. From one
// goroutine every member insert pays its own fsync; from many, group commit
// shares one fsync among the Updates of a batch: compare ns/op and
// updates/commit of PutMember/serial and PutMember/parallel.
func BenchmarkUpdate(b *testing.B) {
	var n atomic.Int64
	putMember := func(tx group.Tx) error {
		return tx.PutMember(group.Member{GroupID: "g", UserID: "u" + strconv.FormatInt(n.Add(1), 10)})
	}
	empty := func(group.Tx) error { return nil }

	for _, bc := range []struct {
		name     string
		parallel bool
		fn       func(group.Tx) error
	}{
		{"Empty/serial", false, empty},
		{"Empty/parallel", true, empty},
		{"PutMember/serial", false, putMember},
		{"PutMember/parallel", true, putMember},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			update := func(b *testing.B) {
				if err := s.Update(b.Context(), bc.fn); err != nil {
					b.Error(err)
				}
			}
			updates, commits := s.updates.Load(), s.commits.Load()
			b.ResetTimer()
			if bc.parallel {
				b.SetParallelism(benchWriters)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						update(b)
					}
				})
			} else {
				for b.Loop() {
					update(b)
				}
			}
			b.StopTimer()
			if c := s.commits.Load() - commits; c > 0 {
				b.ReportMetric(float64(s.updates.Load()-updates)/float64(c), "updates/commit")
			}
		})
	}
}

// BenchmarkUseNonce measures nonces from many goroutines: UseNonce (one
// statement in the group commit) against the same nonce in an Update of its
// own (a savepoint each), and keys that start with their time (as the
// Wildfire door makes them) against random keys, which scatter the inserts
// over the index: compare ns/op and nonces/commit.
func BenchmarkUseNonce(b *testing.B) {
	expires, now := time.UnixMilli(4_000_000_000_000), time.UnixMilli(1)
	timeKey := func(i int64) string { return fmt.Sprintf("%012x%032x", 1_700_000_000_000+i/16, i) }
	randomKey := func(i int64) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(strconv.FormatInt(i, 10))))[:44] }
	for _, bc := range []struct {
		name   string
		key    func(int64) string
		update bool
	}{
		{"UseNonce/time-keys", timeKey, false},
		{"UseNonce/random-keys", randomKey, false},
		{"Update/time-keys", timeKey, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			use := func() error {
				key := bc.key(n.Add(1))
				if bc.update {
					return s.Update(b.Context(), func(tx group.Tx) error {
						_, err := tx.UseNonce(key, expires, now)
						return err
					})
				}
				_, err := s.UseNonce(b.Context(), key, expires, now)
				return err
			}
			// A table of some 100,000 live nonces, half a minute of a busy node.
			err = s.Update(b.Context(), func(tx group.Tx) error {
				for range 100_000 {
					if _, err := tx.UseNonce(bc.key(n.Add(1)), expires, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			commits := s.commits.Load()
			before := n.Load()
			b.ResetTimer()
			b.SetParallelism(benchWriters)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := use(); err != nil {
						b.Error(err)
					}
				}
			})
			b.StopTimer()
			if c := s.commits.Load() - commits; c > 0 {
				b.ReportMetric(float64(n.Load()-before)/float64(c), "nonces/commit")
			}
		})
	}
}

// BenchmarkPrune measures one Prune Update (how long it holds the writer)
// for a few batch sizes, on a log with a backlog of old events larger than
// any batch: compare ns/op across the sizes; ns/row should stay flat while
// ns/op grows with the batch. qqbot.DefaultPruneBatch is 10,000.
func BenchmarkPrune(b *testing.B) {
	const backlog = 200_000
	old, now := time.UnixMilli(1), time.UnixMilli(2_000_000)
	fill := func(b *testing.B, s *Store, n int) {
		err := s.Update(b.Context(), func(tx group.Tx) error {
			for range n {
				if _, err := tx.AppendEvent(group.Event{BotID: "bot", Type: group.EventAddRobot, GroupID: "g", CreatedAt: old}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, batch := range []int{1_000, 10_000, 100_000} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fill(b, s, backlog)
			left := backlog
			for b.Loop() {
				if left < batch {
					b.StopTimer()
					fill(b, s, backlog)
					left += backlog
					b.StartTimer()
				}
				n, err := s.Prune(b.Context(), now, now, now, now, batch)
				if err == nil && n != batch {
					err = fmt.Errorf("pruned %d rows, want %d", n, batch)
				}
				if err != nil {
					b.Fatal(err)
				}
				left -= batch
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/row")
		})
	}
}

// BenchmarkPutMembers measures one Update that writes the rows of a new
// 2,000-member group (how long a large group/create holds the writer): with
// PutMembers, and with one PutMember per row as the domain wrote them before.
func BenchmarkPutMembers(b *testing.B) {
	const n = group.DefaultMaxMembersPerCall
	for _, bc := range []struct {
		name string
		put  func(tx group.Tx, ms []group.Member) error
	}{
		{"bulk", func(tx group.Tx, ms []group.Member) error { return tx.PutMembers(ms) }},
		{"per-row", func(tx group.Tx, ms []group.Member) error {
			for _, m := range ms {
				if err := tx.PutMember(m); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ms := make([]group.Member, n)
			g := 0
			for b.Loop() {
				g++
				for i := range ms {
					ms[i] = group.Member{GroupID: "g" + strconv.Itoa(g), UserID: "made-up-member-" + strconv.Itoa(i), Type: group.MemberNormal}
				}
				if err := s.Update(b.Context(), func(tx group.Tx) error { return bc.put(tx, ms) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}

// BenchmarkSendAtScale: a message mentioning the group's robot in a group of
// 10 members against one of 100,000 (storetest.BenchSendAtScale). "fresh"
// empties the writer's cache every transaction, so that every send reads
// the group's robots from the store.
func BenchmarkSendAtScale(b *testing.B) {
	withAndWithoutCache(b, func(b *testing.B, s *Store) { storetest.BenchSendAtScale(b, s) })
}

// withAndWithoutCache runs bench on a new store as it runs ("cache") and on
// one whose writer starts every transaction with an empty cache ("fresh").
func withAndWithoutCache(b *testing.B, bench func(b *testing.B, s *Store)) {
	for _, fresh := range []bool{false, true} {
		b.Run(map[bool]string{false: "cache", true: "fresh"}[fresh], func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.freshCache = fresh
			bench(b, s)
		})
	}
}

// BenchmarkAddMember runs the Robot API's member/add through the domain: a
// robot adds one new member to its own group (the 105 notification appended
// in the same transaction), from many goroutines, each robot in a group of
// its own, as `qun bench robot` does. "cache" is the store as it runs;
// "fresh" starts every transaction with an empty writer cache, so that the
// two show what the cache saves: compare ns/op and statements/update.
func BenchmarkAddMember(b *testing.B) {
	withAndWithoutCache(b, func(b *testing.B, s *Store) {
		svc := group.NewService(s, group.Config{})
		const robots = 64
		for i := range robots {
			id := fmt.Sprintf("r%02d", i)
			if _, _, err := svc.CreateRobot(b.Context(), group.RobotInput{User: group.User{ID: id, Name: id}}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.CreateGroup(b.Context(), group.Robot(id), group.CreateGroupInput{Group: group.Group{ID: "g-" + id}}); err != nil {
				b.Fatal(err)
			}
		}
		var next, n atomic.Int64
		updates, commits, statements := s.updates.Load(), s.commits.Load(), s.statements.Load()
		b.ResetTimer()
		b.SetParallelism(benchWriters)
		b.RunParallel(func(pb *testing.PB) {
			id := fmt.Sprintf("r%02d", next.Add(1)%robots)
			for pb.Next() {
				m := group.Member{UserID: "u" + strconv.FormatInt(n.Add(1), 10)}
				if err := svc.AddMembers(b.Context(), group.Robot(id), "g-"+id, []group.Member{m}, group.Notify{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		u := float64(s.updates.Load() - updates)
		b.ReportMetric(float64(s.statements.Load()-statements)/u, "statements/update")
		b.ReportMetric(u/float64(s.commits.Load()-commits), "updates/commit")
	})
}

// BenchmarkAppendEvent measures what an event costs the single writer: an
// Update that appends a message, against one that appends a message and an
// event of one bot for it (a message that mentions the bot), from many
// goroutines, as `qunbench events` sends them. Compare cpu-µs/op (the
// process's CPU time, which the fsyncs of group commit move less than
// ns/op) of the two.
func BenchmarkAppendEvent(b *testing.B) {
	for _, withEvent := range []bool{false, true} {
		b.Run(map[bool]string{false: "Message", true: "MessageEvent"}[withEvent], func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "qun.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.UnixMilli(1_700_000_000_000).UTC()
			send := func(tx group.Tx) error {
				m, err := tx.AppendMessage(group.Message{GroupID: "g", Sender: "u1", Payload: group.Payload{Type: 1, Content: "hello @bot1"}, CreatedAt: now})
				if err != nil || !withEvent {
					return err
				}
				_, err = tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAtMessage, GroupID: "g", OperatorID: "u1", MessageUID: m.UID, CreatedAt: now})
				return err
			}
			updates, commits, cpu := s.updates.Load(), s.commits.Load(), processCPU(b)
			b.ResetTimer()
			b.SetParallelism(benchWriters)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Update(b.Context(), send); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(s.updates.Load()-updates)/float64(s.commits.Load()-commits), "updates/commit")
		})
	}
}

// processCPU returns the CPU time, user and system, the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
