package postgres

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/storetest"
)

// benchWriters is how many goroutines per GOMAXPROCS the parallel cases run,
// as in the SQLite store's benchmark: a server has many more concurrent
// writers than cores.
const benchWriters = 16

// BenchmarkUpdate compares an empty Update (BEGIN and COMMIT of a transaction
// that writes nothing, so no WAL flush) with one that inserts a member (a
// durable commit), each from one goroutine and from many, over the pool's
// default size. The parallel cases show how far concurrent transactions
// share the server's WAL flushes; compare with the SQLite store's
// BenchmarkUpdate, which commits them in batches.
func BenchmarkUpdate(b *testing.B) {
	dsn := testDSN(b)
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
			s, err := Open(b.Context(), dsn, WithSchema(testSchema(b, dsn)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			update := func(b *testing.B) {
				if err := s.Update(b.Context(), bc.fn); err != nil {
					b.Error(err)
				}
			}
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
		})
	}
}

// BenchmarkSendAtScale: a message mentioning the group's robot in a group of
// 10 members against one of 100,000 (storetest.BenchSendAtScale).
func BenchmarkSendAtScale(b *testing.B) {
	dsn := testDSN(b)
	s, err := Open(b.Context(), dsn, WithSchema(testSchema(b, dsn)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchSendAtScale(b, s)
}

// BenchmarkAddMember runs the Robot API's member/add through the domain, as
// the SQLite store's BenchmarkAddMember does: a robot adds one new member to
// its own group (the 105 notification appended in the same transaction),
// from many goroutines over 64 groups. Besides ns/op it reports the CPU the
// pool's PostgreSQL backends spent per op (pg-µs/op, read from /proc when the
// server runs on this machine) and this process's (go-µs/op): on a shared
// machine the rates swing, CPU per op much less.
func BenchmarkAddMember(b *testing.B) {
	dsn := testDSN(b)
	s, err := Open(b.Context(), dsn, WithSchema(testSchema(b, dsn)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
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
	pg0, pgOK := backendCPU(s)
	trips := s.trips.Load()
	go0 := processCPU()
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
	ops := float64(b.N)
	b.ReportMetric(float64(s.trips.Load()-trips)/ops, "round-trips/op")
	if pg1, ok := backendCPU(s); ok && pgOK {
		b.ReportMetric(float64((pg1-pg0).Microseconds())/ops, "pg-µs/op")
	}
	b.ReportMetric(float64((processCPU()-go0).Microseconds())/ops, "go-µs/op")
}

// backendCPU is the CPU time the pool's backends have used, from
// /proc/PID/stat (user and system, in clock ticks of 10 ms, Linux's USER_HZ
// on every common architecture); false if a backend is not found there.
func backendCPU(s *Store) (time.Duration, bool) {
	var total time.Duration
	ok := true
	s.ownPIDs.Range(func(k, _ any) bool {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k.(uint32)))
		if err != nil {
			ok = false
			return false
		}
		// The fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th.
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 13 {
			ok = false
			return false
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			ok = false
			return false
		}
		total += time.Duration(u+st) * 10 * time.Millisecond
		return true
	})
	return total, ok
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
