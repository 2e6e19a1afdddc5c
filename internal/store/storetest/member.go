package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testMember(t *testing.T, s group.Store) {
	alice, bob, carol := member("g", "alice", group.MemberOwner), member("g", "bob", group.MemberManager), member("g", "carol", group.MemberNormal)
	put(t, s, members, alice, bob)
	put(t, s, members, carol)
	getMember := func(t *testing.T, userID string) group.Member {
		t.Helper()
		return read(t, s, func(r group.Reader) (group.Member, error) { return r.Member("g", userID) })
	}
	first := map[string]int64{}
	for _, id := range []string{"alice", "bob", "carol"} {
		first[id] = getMember(t, id).Pos
	}

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.Member{alice, bob, carol} {
			want.Pos = first[want.UserID]
			diff(t, "Member(g, "+want.UserID+")", want, getMember(t, want.UserID))
		}
	})
	t.Run("PosAssigned", func(t *testing.T) {
		if !(0 < first["alice"] && first["alice"] < first["bob"] && first["bob"] < first["carol"]) {
			t.Errorf("Pos of alice, bob, carol = %d, %d, %d; want positive and increasing in insert order",
				first["alice"], first["bob"], first["carol"])
		}
	})
	t.Run("PosKept", func(t *testing.T) {
		// An update, a removal and a re-add all keep the row's Pos, whatever Pos the caller passes.
		steps := []struct {
			name   string
			change func(m *group.Member)
		}{
			{"update", func(m *group.Member) { m.Alias, m.Extra, m.UpdatedAt = "Al", "", at(time.Hour) }},
			{"update with a Pos", func(m *group.Member) { m.Pos = 1 << 40 }},
			{"remove", func(m *group.Member) { m.Type = group.MemberRemoved }},
			{"re-add", func(m *group.Member) { m.Type, m.JoinedAt = group.MemberNormal, at(2*time.Hour) }},
		}
		m := alice
		for _, step := range steps {
			step.change(&m)
			put(t, s, members, m)
			want := m
			want.Pos = first["alice"]
			diff(t, "Member(g, alice) after "+step.name, want, getMember(t, "alice"))
		}
		got := read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("g") })
		diff(t, "Members(g) order after re-add", []string{"alice", "bob", "carol"}, userIDs(got))
	})
	t.Run("RemovedReadable", func(t *testing.T) {
		removed := carol
		removed.Type = group.MemberRemoved
		put(t, s, members, removed)
		removed.Pos = first["carol"]
		diff(t, "Member(g, carol) removed", removed, getMember(t, "carol"))
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "Member(g, nobody)", func(r group.Reader) (group.Member, error) { return r.Member("g", "nobody") })
		wantNotExist(t, s, "Member(nope, alice)", func(r group.Reader) (group.Member, error) { return r.Member("nope", "alice") })
	})
}

func testMemberListing(t *testing.T, s group.Store) {
	put(t, s, users, group.User{ID: "bot1", Type: group.UserRobot}, group.User{ID: "bot2", Type: group.UserRobot},
		group.User{ID: "robot-without-bot", Type: group.UserRobot})
	put(t, s, bots, group.Bot{UserID: "bot1"}, group.Bot{UserID: "bot2"})
	put(t, s, groups, group.Group{ID: "g"}, group.Group{ID: "h"})
	g := []group.Member{
		member("g", "alice", group.MemberOwner),
		member("g", "bot2", group.MemberNormal),
		member("g", "bob", group.MemberManager),
		member("g", "carol", group.MemberRemoved),
		member("g", "bot1", group.MemberNormal),
		member("g", "dave", group.MemberSilent),
		member("g", "erin", group.MemberAllowed),
		member("g", "robot-without-bot", group.MemberNormal),
	}
	put(t, s, members, g...)
	put(t, s, members, member("h", "alice", group.MemberNormal), member("h", "bot1", group.MemberRemoved),
		member("h", "carol", group.MemberNormal))
	var active []group.Member
	for _, m := range g {
		if m.Type != group.MemberRemoved {
			active = append(active, m)
		}
	}

	t.Run("Members", func(t *testing.T) {
		got := read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("g") })
		diff(t, "Members(g)", withPos(active, got), got)
		for i := 1; i < len(got); i++ {
			if got[i-1].Pos >= got[i].Pos {
				t.Errorf("Members(g) not in Pos order: %d then %d", got[i-1].Pos, got[i].Pos)
			}
		}
	})
	t.Run("MemberCount", func(t *testing.T) {
		for _, tt := range []struct {
			group string
			want  int
		}{{"g", len(active)}, {"h", 2}, {"nope", 0}} {
			diff(t, "MemberCount("+tt.group+")", tt.want, read(t, s, func(r group.Reader) (int, error) { return r.MemberCount(tt.group) }))
		}
	})
	t.Run("MemberCountFollowsTypeChanges", func(t *testing.T) {
		count := func(g string) int {
			return read(t, s, func(r group.Reader) (int, error) { return r.MemberCount(g) })
		}
		put(t, s, groups, group.Group{ID: "c"})
		put(t, s, members, member("c", "x", group.MemberNormal), member("c", "y", group.MemberRemoved), member("c", "z", group.MemberManager))
		diff(t, "after insert", 2, count("c"))
		put(t, s, members, member("c", "x", group.MemberRemoved), member("c", "y", group.MemberSilent), member("c", "z", group.MemberNormal))
		diff(t, "after remove x, re-add y, demote z", 2, count("c"))
		put(t, s, members, member("c", "x", group.MemberRemoved))
		diff(t, "after removing x again", 2, count("c"))
		failed := errors.New("rolled back")
		if err := s.Update(context.Background(), func(tx group.Tx) error {
			if err := tx.PutMember(member("c", "w", group.MemberNormal)); err != nil {
				return err
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatalf("Update = %v, want %v", err, failed)
		}
		diff(t, "after a rolled-back add", 2, count("c"))
		update(t, s, func(tx group.Tx) error { return tx.DeleteGroup("c") })
		diff(t, "after DeleteGroup", 0, count("c"))
		put(t, s, groups, group.Group{ID: "c"})
		put(t, s, members, member("c", "y", group.MemberNormal))
		diff(t, "after re-creating the group", 1, count("c"))
	})
	t.Run("BotMembers", func(t *testing.T) {
		// The active members with a Bot record, in Pos order.
		for _, tt := range []struct {
			group string
			want  []string
		}{{"g", []string{"bot2", "bot1"}}, {"h", nil}, {"nope", nil}} {
			diff(t, "BotMembers("+tt.group+")", tt.want, read(t, s, func(r group.Reader) ([]string, error) { return r.BotMembers(tt.group) }))
		}
	})
	t.Run("GroupsOfUser", func(t *testing.T) {
		for _, tt := range []struct {
			user string
			want []string
		}{{"alice", []string{"g", "h"}}, {"bot1", []string{"g"}}, {"carol", []string{"h"}}, {"nobody", nil}} {
			got := read(t, s, func(r group.Reader) ([]string, error) { return r.GroupsOfUser(tt.user) })
			sort.Strings(got)
			diff(t, "GroupsOfUser("+tt.user+")", tt.want, got)
		}
	})
	t.Run("UnknownGroup", func(t *testing.T) {
		diff(t, "Members(nope)", []group.Member(nil), read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("nope") }))
	})
}

// testBotMembers: BotMembers follows every change that makes a member a
// robot member or not: robots joining and leaving, a user becoming a robot
// while in groups (and while removed from one), several robots in one write,
// a rolled-back write, a dismissed and re-created group.
func testBotMembers(t *testing.T, s group.Store) {
	botMembers := func(t *testing.T, g string) []string {
		t.Helper()
		return read(t, s, func(r group.Reader) ([]string, error) { return r.BotMembers(g) })
	}
	put(t, s, bots, group.Bot{UserID: "r1"}, group.Bot{UserID: "r2"})
	put(t, s, groups, group.Group{ID: "g"}, group.Group{ID: "h"})
	put(t, s, members, member("g", "alice", group.MemberOwner), member("g", "r2", group.MemberNormal),
		member("g", "later", group.MemberNormal), member("h", "later", group.MemberRemoved), member("h", "r1", group.MemberNormal))

	t.Run("Added", func(t *testing.T) {
		diff(t, "BotMembers(g)", []string{"r2"}, botMembers(t, "g"))
		put(t, s, members, member("g", "bob", group.MemberNormal), member("g", "r1", group.MemberManager))
		diff(t, "BotMembers(g) after r1 joins", []string{"r2", "r1"}, botMembers(t, "g"))
	})
	t.Run("Removed", func(t *testing.T) {
		put(t, s, members, member("g", "r2", group.MemberRemoved))
		diff(t, "BotMembers(g) after r2 leaves", []string{"r1"}, botMembers(t, "g"))
		put(t, s, members, member("g", "r2", group.MemberSilent))
		diff(t, "BotMembers(g) after r2 is back", []string{"r2", "r1"}, botMembers(t, "g"))
	})
	t.Run("UserBecomesRobot", func(t *testing.T) {
		// "later" is active in g, removed from h; a Bot record makes it a
		// robot in g at once and in h when it is added again.
		put(t, s, bots, group.Bot{UserID: "later"})
		diff(t, "BotMembers(g) after later becomes a robot", []string{"r2", "later", "r1"}, botMembers(t, "g"))
		diff(t, "BotMembers(h) with later removed", []string{"r1"}, botMembers(t, "h"))
		put(t, s, members, member("h", "later", group.MemberNormal))
		diff(t, "BotMembers(h) after later is back", []string{"later", "r1"}, botMembers(t, "h"))
		// Writing the Bot record again changes nothing.
		put(t, s, bots, group.Bot{UserID: "later", Owner: "alice"})
		diff(t, "BotMembers(g) after the Bot is rewritten", []string{"r2", "later", "r1"}, botMembers(t, "g"))
	})
	t.Run("RolledBack", func(t *testing.T) {
		failed := errors.New("rolled back")
		if err := s.Update(context.Background(), func(tx group.Tx) error {
			if err := tx.PutBot(group.Bot{UserID: "alice"}); err != nil {
				return err
			}
			if err := tx.PutMember(member("h", "r2", group.MemberNormal)); err != nil {
				return err
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatalf("Update = %v, want %v", err, failed)
		}
		diff(t, "BotMembers(g) after a rolled-back PutBot", []string{"r2", "later", "r1"}, botMembers(t, "g"))
		diff(t, "BotMembers(h) after a rolled-back add", []string{"later", "r1"}, botMembers(t, "h"))
	})
	t.Run("GroupDismissed", func(t *testing.T) {
		update(t, s, func(tx group.Tx) error { return tx.DeleteGroup("g") })
		diff(t, "BotMembers(g) after DeleteGroup", []string(nil), botMembers(t, "g"))
		diff(t, "BotMembers(h) kept", []string{"later", "r1"}, botMembers(t, "h"))
		put(t, s, groups, group.Group{ID: "g"})
		put(t, s, members, member("g", "alice", group.MemberOwner), member("g", "r1", group.MemberNormal))
		diff(t, "BotMembers(g) re-created", []string{"r1"}, botMembers(t, "g"))
	})
	t.Run("ManyInOneWrite", func(t *testing.T) {
		// A bulk write of 300 rows (more than one multi-row statement)
		// with a robot in each part.
		var ms []group.Member
		var want []string
		for i := range 300 {
			id := fmt.Sprintf("u%03d", i)
			if i%100 == 7 {
				id = fmt.Sprintf("bot%03d", i)
				want = append(want, id)
				put(t, s, bots, group.Bot{UserID: id})
			}
			ms = append(ms, member("big", id, group.MemberNormal))
		}
		put(t, s, groups, group.Group{ID: "big"})
		update(t, s, func(tx group.Tx) error { return tx.PutMembers(ms) })
		diff(t, "BotMembers(big)", want, botMembers(t, "big"))
	})
}

func testMembersPage(t *testing.T, s group.Store) {
	var ms []group.Member
	for _, id := range []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6"} {
		ms = append(ms, member("g", id, group.MemberNormal))
	}
	ms[2].Type, ms[5].Type = group.MemberRemoved, group.MemberRemoved
	for _, m := range ms {
		put(t, s, members, m) // one Update each: Pos in this order
	}
	page := func(t *testing.T, after int64, limit int) []group.Member {
		t.Helper()
		return read(t, s, func(r group.Reader) ([]group.Member, error) { return r.MembersPage("g", after, limit) })
	}
	everyone := read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("g") })

	t.Run("Pages", func(t *testing.T) {
		var got [][]string
		after := int64(0)
		for range len(ms) {
			p := page(t, after, 2)
			if len(p) == 0 {
				break
			}
			got = append(got, userIDs(p))
			after = p[len(p)-1].Pos
		}
		diff(t, "pages of 2", [][]string{{"m0", "m1"}, {"m3", "m4"}, {"m6"}}, got)
	})
	t.Run("FullRows", func(t *testing.T) {
		diff(t, "MembersPage(g, 0, 100)", everyone, page(t, 0, 100))
	})
	t.Run("Limit0", func(t *testing.T) {
		diff(t, "MembersPage(g, 0, 0)", []group.Member(nil), page(t, 0, 0))
	})
	t.Run("Keyset", func(t *testing.T) {
		// A page continues after the last key seen, whatever changed before it:
		// a member removed from an earlier page does not shift the next page,
		// and a member added meanwhile appears at the end.
		first := page(t, 0, 2)
		removed := ms[0]
		removed.Type = group.MemberRemoved
		put(t, s, members, removed, member("g", "m7", group.MemberNormal))
		var rest []string
		after := first[len(first)-1].Pos
		for range len(ms) {
			p := page(t, after, 2)
			if len(p) == 0 {
				break
			}
			rest = append(rest, userIDs(p)...)
			after = p[len(p)-1].Pos
		}
		diff(t, "pages after the first", []string{"m3", "m4", "m6", "m7"}, rest)
	})
}

func testProactive(t *testing.T, s group.Store) {
	proactive := func(t *testing.T, groupID, botID string) bool {
		t.Helper()
		return read(t, s, func(r group.Reader) (bool, error) { return r.Proactive(groupID, botID) })
	}
	set := func(t *testing.T, groupID, botID string, allowed bool) {
		t.Helper()
		update(t, s, func(tx group.Tx) error { return tx.SetProactive(groupID, botID, allowed) })
	}
	steps := []struct {
		name  string
		do    func(t *testing.T)
		g1b1  bool // Proactive(g1, bot1) after the step
		other bool // Proactive(g2, bot1) and Proactive(g1, bot2)
	}{
		{"default", func(*testing.T) {}, true, true},
		{"off", func(t *testing.T) { set(t, "g1", "bot1", false) }, false, true},
		{"off again", func(t *testing.T) { set(t, "g1", "bot1", false) }, false, true},
		{"on", func(t *testing.T) { set(t, "g1", "bot1", true) }, true, true},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			diff(t, "Proactive(g1, bot1)", step.g1b1, proactive(t, "g1", "bot1"))
			diff(t, "Proactive(g2, bot1)", step.other, proactive(t, "g2", "bot1"))
			diff(t, "Proactive(g1, bot2)", step.other, proactive(t, "g1", "bot2"))
		})
	}
}
