package sqlite

import (
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/qun-chat/qun/internal/group"
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
