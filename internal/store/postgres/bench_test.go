package postgres

import (
	"strconv"
	"sync/atomic"
	"testing"

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
