package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// bulkSize is more rows than a store is likely to put in one statement, and
// not a round number, so that every way of splitting a bulk write runs.
const bulkSize = 1003

// testBulkMembers checks PutMembers, MembersOf and BotsOf: the one-statement
// (or few-statement) forms of what the domain does for every member of a
// large write.
func testBulkMembers(t *testing.T, s group.Store) {
	ids := make([]string, bulkSize)
	ms := make([]group.Member, bulkSize)
	for i := range ms {
		ids[i] = fmt.Sprintf("u%04d", bulkSize-i) // not in id order: Pos follows the order given
		ms[i] = member("g", ids[i], group.MemberNormal)
	}
	ms[7].Type, ms[500].Type = group.MemberRemoved, group.MemberManager
	update(t, s, func(tx group.Tx) error { return tx.PutMembers(ms) })
	count := func(t *testing.T, g string) int {
		t.Helper()
		return read(t, s, func(r group.Reader) (int, error) { return r.MemberCount(g) })
	}
	all := func(t *testing.T) []group.Member {
		t.Helper()
		got := read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersOf("g", ids) })
		if len(got) != len(ms) {
			t.Fatalf("MembersOf(g, every id) = %d rows, want %d", len(got), len(ms))
		}
		return got
	}
	first := all(t)

	t.Run("PutMembers", func(t *testing.T) {
		diff(t, "rows, in the order given", withPos(ms, first), first)
		for i := 1; i < len(first); i++ {
			if first[i-1].Pos >= first[i].Pos {
				t.Fatalf("Pos not increasing in the order given: %d then %d", first[i-1].Pos, first[i].Pos)
			}
		}
		diff(t, "MemberCount(g)", bulkSize-1, count(t, "g"))
		// Updates keep Pos and follow every type change in the count; a row
		// given twice keeps its first place and takes its last values; new
		// rows go last in the order given.
		change := []group.Member{ms[0], ms[7], ms[9], member("g", "new-b", group.MemberNormal), ms[9], member("g", "new-a", group.MemberRemoved)}
		change[0].Type, change[0].Alias = group.MemberRemoved, "gone"           // active → removed
		change[1].Type, change[1].UpdatedAt = group.MemberSilent, at(time.Hour) // removed → active
		change[2].Alias = "first"
		change[4].Alias, change[4].Type = "last", group.MemberRemoved
		update(t, s, func(tx group.Tx) error { return tx.PutMembers(change) })
		want := slices.Clone(withPos(ms, first))
		want[0].Type, want[0].Alias = group.MemberRemoved, "gone"
		want[7].Type, want[7].UpdatedAt = group.MemberSilent, at(time.Hour)
		want[9].Alias, want[9].Type = "last", group.MemberRemoved
		got := read(t, s, func(r group.Reader) ([]group.Member, error) {
			return r.MembersOf("g", append(slices.Clone(ids), "new-a", "new-b"))
		})
		if len(got) != len(ms)+2 {
			t.Fatalf("MembersOf = %d rows, want %d", len(got), len(ms)+2)
		}
		diff(t, "rows after the change", want, got[:len(ms)])
		diff(t, "new rows, last and in the order given", []string{"new-b", "new-a"}, userIDs(got[len(ms):]))
		// -1 (ms[0] removed) +1 (ms[7] back) -1 (ms[9] removed) +1 (new-b).
		diff(t, "MemberCount(g) after the change", bulkSize-1, count(t, "g"))
		update(t, s, func(tx group.Tx) error { return tx.PutMembers(nil) })
		diff(t, "MemberCount(g) after PutMembers(nil)", bulkSize-1, count(t, "g"))
	})
	t.Run("RolledBack", func(t *testing.T) {
		before := count(t, "g")
		extra := []group.Member{member("g", "rb1", group.MemberNormal), member("h", "rb2", group.MemberNormal)}
		err := s.Update(t.Context(), func(tx group.Tx) error {
			if err := tx.PutMembers(extra); err != nil {
				return err
			}
			return errTest
		})
		if err != errTest {
			t.Fatalf("Update = %v, want %v", err, errTest)
		}
		diff(t, "MemberCount(g) after a rolled-back PutMembers", before, count(t, "g"))
		diff(t, "MembersOf(h) after a rolled-back PutMembers", []group.Member(nil),
			read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersOf("h", []string{"rb2"}) }))
	})
	t.Run("MembersOf", func(t *testing.T) {
		// Any type, each once however often asked, in Pos order; users
		// without a row and other groups' rows are left out.
		put(t, s, members, member("h", ids[3], group.MemberNormal))
		ask := []string{ids[20], "nobody", ids[3], ids[7], ids[20], ids[0]}
		got := read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersOf("g", ask) })
		diff(t, "MembersOf(g, …)", []string{ids[0], ids[3], ids[7], ids[20]}, userIDs(got))
		// Many ids, most of them twice (a store may tell repeats apart one
		// way for a few ids and another for many).
		many := append(slices.Clone(ids[:40]), ids[:40]...)
		many = append(many, "nobody", ids[3], "nobody")
		got = read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersOf("g", many) })
		diff(t, "MembersOf(g, 40 ids twice)", userIDs(first[:40]), userIDs(got))
		for _, tt := range []struct {
			name  string
			group string
			ids   []string
		}{{"no ids", "g", nil}, {"unknown group", "nope", ids}, {"unknown ids", "g", []string{"x", "y"}}} {
			diff(t, "MembersOf, "+tt.name, []group.Member(nil),
				read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersOf(tt.group, tt.ids) }))
		}
	})
	t.Run("BotsOf", func(t *testing.T) {
		var want []group.Bot
		var robots []group.User
		for i := range 300 {
			id := fmt.Sprintf("bot%03d", 299-i)
			robots = append(robots, group.User{ID: id, Type: group.UserRobot})
			want = append(want, group.Bot{UserID: id, Secret: "s" + id, IceBreaker: group.IceBreaker{Enabled: i%2 == 0, Payload: payload(id)}, UpdatedAt: t0})
		}
		put(t, s, users, robots...)
		put(t, s, bots, want...)
		slices.Reverse(want) // into user id order
		// Every bot, asked among many users, twice over, in no order.
		ask := append(slices.Clone(ids), "nobody")
		for _, b := range want {
			ask = append(ask, b.UserID, b.UserID)
		}
		slices.Reverse(ask)
		diff(t, "BotsOf(every bot and more)", want, read(t, s, func(r group.Reader) ([]group.Bot, error) { return r.BotsOf(ask) }))
		diff(t, "BotsOf(some)", []group.Bot{want[5], want[17]},
			read(t, s, func(r group.Reader) ([]group.Bot, error) {
				return r.BotsOf([]string{want[17].UserID, "u0001", want[5].UserID})
			}))
		diff(t, "BotsOf(none)", []group.Bot(nil), read(t, s, func(r group.Reader) ([]group.Bot, error) { return r.BotsOf(nil) }))
		diff(t, "BotsOf(no bots)", []group.Bot(nil), read(t, s, func(r group.Reader) ([]group.Bot, error) { return r.BotsOf(ids[:10]) }))
	})
}
