package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// fullGroup is a group with every field set.
func fullGroup(id string) group.Group {
	return group.Group{ID: id, Name: "Group " + id, Portrait: "https://p.example/" + id, Owner: "alice",
		Type: group.GroupRestricted, Extra: `{"g":1}`, Mute: 1, JoinType: group.JoinManagers, PrivateChat: 1,
		Searchable: 1, HistoryMessage: 1, MaxMemberCount: 500, SuperGroup: true, CreatedAt: t0, UpdatedAt: at(time.Minute)}
}

func testGroup(t *testing.T, s group.Store) {
	g1, g2 := fullGroup("g1"), group.Group{ID: "g2", Owner: "bob"}
	put(t, s, groups, g1, g2)

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.Group{g1, g2} {
			got := read(t, s, func(r group.Reader) (group.Group, error) { return r.Group(want.ID) })
			diff(t, "Group("+want.ID+")", want, got)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		changed := g1
		changed.Name, changed.Owner, changed.Mute, changed.SuperGroup, changed.UpdatedAt = "Renamed", "bob", 0, false, at(time.Hour)
		put(t, s, groups, changed)
		got := read(t, s, func(r group.Reader) (group.Group, error) { return r.Group("g1") })
		diff(t, "Group(g1) after replace", changed, got)
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "Group(nope)", func(r group.Reader) (group.Group, error) { return r.Group("nope") })
	})
}

func testDeleteGroup(t *testing.T, s group.Store) {
	put(t, s, bots, group.Bot{UserID: "bot1"})
	put(t, s, groups, fullGroup("g"), fullGroup("other"))
	put(t, s, members, member("g", "alice", group.MemberOwner), member("g", "bot1", group.MemberNormal),
		member("g", "carol", group.MemberRemoved), member("other", "alice", group.MemberNormal))
	var uids []int64
	update(t, s, func(tx group.Tx) error {
		if err := tx.SetProactive("g", "bot1", false); err != nil {
			return err
		}
		for _, line := range []int{0, 0, 1} {
			m, err := tx.AppendMessage(group.Message{GroupID: "g", Line: line, Sender: "alice", Payload: payload("m"), CreatedAt: t0})
			if err != nil {
				return err
			}
			uids = append(uids, m.UID)
		}
		return nil
	})

	update(t, s, func(tx group.Tx) error { return tx.DeleteGroup("g") })

	t.Run("Gone", func(t *testing.T) {
		wantNotExist(t, s, "Group(g)", func(r group.Reader) (group.Group, error) { return r.Group("g") })
		for _, u := range []string{"alice", "bot1", "carol"} {
			wantNotExist(t, s, "Member(g, "+u+")", func(r group.Reader) (group.Member, error) { return r.Member("g", u) })
		}
		diff(t, "Members(g)", []group.Member(nil), read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("g") }))
		diff(t, "MemberCount(g)", 0, read(t, s, func(r group.Reader) (int, error) { return r.MemberCount("g") }))
		diff(t, "BotMembers(g)", []string(nil), read(t, s, func(r group.Reader) ([]string, error) { return r.BotMembers("g") }))
		diff(t, "GroupsOfUser(alice)", []string{"other"}, read(t, s, func(r group.Reader) ([]string, error) { return r.GroupsOfUser("alice") }))
		diff(t, "Proactive(g, bot1)", true, read(t, s, func(r group.Reader) (bool, error) { return r.Proactive("g", "bot1") }))
	})
	t.Run("OthersKept", func(t *testing.T) {
		diff(t, "MemberCount(other)", 1, read(t, s, func(r group.Reader) (int, error) { return r.MemberCount("other") }))
		read(t, s, func(r group.Reader) (group.Group, error) { return r.Group("other") })
	})
	t.Run("TimelineKept", func(t *testing.T) {
		ms := read(t, s, func(r group.Reader) ([]group.Message, error) { return r.Messages("g", 0, 0, 10) })
		if len(ms) != 2 {
			t.Errorf("Messages(g, 0) after delete: %d messages, want 2", len(ms))
		}
		for _, uid := range uids {
			read(t, s, func(r group.Reader) (group.Message, error) { return r.Message(uid) })
		}
	})
	t.Run("Recreate", func(t *testing.T) {
		// The same id again: a new group whose timeline continues the old seq.
		put(t, s, groups, fullGroup("g"))
		put(t, s, members, member("g", "alice", group.MemberOwner))
		var seq0, seq1 int64
		update(t, s, func(tx group.Tx) error {
			m0, err := tx.AppendMessage(group.Message{GroupID: "g", Line: 0, Sender: "alice", CreatedAt: t0})
			if err != nil {
				return err
			}
			m1, err := tx.AppendMessage(group.Message{GroupID: "g", Line: 1, Sender: "alice", CreatedAt: t0})
			seq0, seq1 = m0.Seq, m1.Seq
			return err
		})
		if seq0 != 3 || seq1 != 2 {
			t.Errorf("seqs after re-creating the group: line 0 %d, line 1 %d; want 3 and 2", seq0, seq1)
		}
		diff(t, "Proactive(g, bot1)", true, read(t, s, func(r group.Reader) (bool, error) { return r.Proactive("g", "bot1") }))
		diff(t, "Members(g)", []string{"alice"}, userIDs(read(t, s, func(r group.Reader) ([]group.Member, error) { return r.Members("g") })))
	})
	t.Run("NotExist", func(t *testing.T) {
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.DeleteGroup("nope") })
		wantCode(t, "DeleteGroup(nope)", err, group.ENotExist)
	})
}
