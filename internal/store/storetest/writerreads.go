package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// testWriterReads: what an Update reads follows the writes of the Updates
// before it, and none of an Update rolled back, including what it read
// after its own writes (a store may keep rows its writer reads again).
func testWriterReads(t *testing.T, s group.Store) {
	type seen struct {
		Name       string
		Alice      int
		Bob        bool // a member row, any type
		Of         []string
		Count      int
		Bots       []string
		Callbacks  []string
		BotsOf     int
		LastSeq    int64
		GroupFound bool
		// Joining is how its reads differ from MembersOf, MemberCount and
		// BotsOf of the same ids: empty when they do not.
		Joining string
	}
	look := func(tx group.Tx) (seen, error) {
		var v seen
		g, err := tx.Group("g")
		if err != nil && !group.IsNotExist(err) {
			return v, err
		}
		v.GroupFound, v.Name = err == nil, g.Name
		if m, err := tx.Member("g", "alice"); err == nil {
			v.Alice = m.Type
		} else if !group.IsNotExist(err) {
			return v, err
		}
		if _, err := tx.Member("g", "bob"); err == nil {
			v.Bob = true
		} else if !group.IsNotExist(err) {
			return v, err
		}
		ms, err := tx.MembersOf("g", []string{"bob", "alice", "nobody", "r2"})
		if err != nil {
			return v, err
		}
		v.Of = userIDs(ms)
		if v.Count, err = tx.MemberCount("g"); err != nil {
			return v, err
		}
		if v.Bots, err = tx.BotMembers("g"); err != nil {
			return v, err
		}
		if v.Callbacks, err = tx.CallbackBots("g"); err != nil {
			return v, err
		}
		bs, err := tx.BotsOf([]string{"alice", "r1", "r2"})
		if err != nil {
			return v, err
		}
		v.BotsOf = len(bs)
		jm, jn, jb, err := tx.Joining("g", []string{"bob", "alice", "nobody", "r2"}, []string{"alice", "r1", "r2"})
		if err != nil {
			return v, err
		}
		if d := cmp.Diff([]any{ms, v.Count, bs}, []any{jm, jn, jb}, cmpOpts); d != "" {
			v.Joining = d
		}
		gg, gm, gn, gb, err := tx.GroupJoining("g", []string{"bob", "alice", "nobody", "r2"}, []string{"alice", "r1", "r2"})
		switch {
		case v.GroupFound && err != nil:
			return v, err
		case v.GroupFound:
			if d := cmp.Diff([]any{g, ms, v.Count, bs}, []any{gg, gm, gn, gb}, cmpOpts); d != "" {
				v.Joining += "GroupJoining: " + d
			}
		case !group.IsNotExist(err):
			v.Joining += fmt.Sprintf("GroupJoining of a missing group: %v, want ENotExist", err)
		}
		v.LastSeq, err = tx.LastEventSeq("r1")
		return v, err
	}
	lookNow := func(t *testing.T) seen {
		t.Helper()
		var v seen
		update(t, s, func(tx group.Tx) (err error) { v, err = look(tx); return err })
		return v
	}
	put(t, s, bots, group.Bot{UserID: "r1", Callback: "http://cb/"})
	put(t, s, groups, group.Group{ID: "g", Name: "one"})
	put(t, s, members, member("g", "alice", group.MemberNormal), member("g", "r1", group.MemberNormal))
	want := seen{Name: "one", Alice: group.MemberNormal, Of: []string{"alice"}, Count: 2, Bots: []string{"r1"}, Callbacks: []string{"r1"},
		BotsOf: 1, GroupFound: true}
	diff(t, "first reads", want, lookNow(t))
	diff(t, "the same reads again", want, lookNow(t))

	// Each step writes in an Update that reads before and after its writes,
	// once rolled back (nothing changes) and once kept.
	steps := []struct {
		name  string
		write func(tx group.Tx) error
		after func(v *seen)
	}{
		{"rename the group", func(tx group.Tx) error { return tx.PutGroup(group.Group{ID: "g", Name: "two"}) },
			func(v *seen) { v.Name = "two" }},
		{"promote alice", func(tx group.Tx) error { return tx.PutMember(member("g", "alice", group.MemberManager)) },
			func(v *seen) { v.Alice = group.MemberManager }},
		{"add r2 and bob", func(tx group.Tx) error {
			if err := tx.PutBot(group.Bot{UserID: "r2"}); err != nil {
				return err
			}
			return tx.PutMembers([]group.Member{member("g", "r2", group.MemberNormal), member("g", "bob", group.MemberNormal)})
		}, func(v *seen) {
			v.Count, v.Bots, v.BotsOf, v.Bob, v.Of = 4, []string{"r1", "r2"}, 2, true, []string{"alice", "r2", "bob"}
		}},
		{"remove bob", func(tx group.Tx) error { return tx.PutMember(member("g", "bob", group.MemberRemoved)) },
			func(v *seen) { v.Count = 3 }},
		{"bob is back, alice is written again", func(tx group.Tx) error {
			return tx.PutMembers([]group.Member{member("g", "bob", group.MemberNormal), member("g", "alice", group.MemberManager)})
		}, func(v *seen) { v.Count = 4 }},
		{"remove bob", func(tx group.Tx) error { return tx.PutMember(member("g", "bob", group.MemberRemoved)) },
			func(v *seen) { v.Count = 3 }},
		{"remove r1", func(tx group.Tx) error { return tx.PutMember(member("g", "r1", group.MemberRemoved)) },
			func(v *seen) { v.Count, v.Bots, v.Callbacks = 2, []string{"r2"}, nil }},
		{"alice becomes a robot", func(tx group.Tx) error { return tx.PutBot(group.Bot{UserID: "alice", Callback: "http://a/"}) },
			func(v *seen) { v.Bots, v.Callbacks, v.BotsOf = []string{"alice", "r2"}, []string{"alice"}, 3 }},
		{"two events for r1", func(tx group.Tx) error {
			for range 2 {
				if _, err := tx.AppendEvent(group.Event{BotID: "r1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		}, func(v *seen) { v.LastSeq += 2 }},
		{"dismiss the group", func(tx group.Tx) error { return tx.DeleteGroup("g") },
			func(v *seen) { *v = seen{BotsOf: v.BotsOf, LastSeq: v.LastSeq} }},
	}
	failed := errors.New("rolled back")
	for _, step := range steps {
		before := lookNow(t)
		var during, inside seen
		err := s.Update(t.Context(), func(tx group.Tx) (err error) {
			if _, err = look(tx); err != nil {
				return err
			}
			if err = step.write(tx); err != nil {
				return err
			}
			if inside, err = look(tx); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("%s, rolled back: Update = %v, want %v", step.name, err, failed)
		}
		diff(t, step.name+": after the rollback", before, lookNow(t))
		want := before
		step.after(&want)
		diff(t, step.name+": read inside the rolled-back Update", want, inside)
		update(t, s, func(tx group.Tx) error {
			if _, err := look(tx); err != nil {
				return err
			}
			if err := step.write(tx); err != nil {
				return err
			}
			during, err = look(tx)
			return err
		})
		diff(t, step.name+": read inside the Update", want, during)
		diff(t, step.name+": read by the next Update", want, lookNow(t))
	}
	// A View reads what the Updates committed.
	var events int64
	if err := s.View(t.Context(), func(r group.Reader) (err error) { events, err = r.LastEventSeq("r1"); return err }); err != nil {
		t.Fatal(err)
	}
	diff(t, "LastEventSeq(r1) in a View", int64(2), events)
}

// testJoining: Joining reads what MembersOf, MemberCount and BotsOf read, in
// a View as in an Update (testWriterReads), whichever of its lists is empty.
func testJoining(t *testing.T, s group.Store) {
	put(t, s, bots, group.Bot{UserID: "r1", Callback: "http://cb/"}, group.Bot{UserID: "r2"})
	put(t, s, groups, group.Group{ID: "g"}, group.Group{ID: "empty"})
	put(t, s, members, member("g", "alice", group.MemberNormal), member("g", "r1", group.MemberNormal),
		member("g", "bob", group.MemberRemoved), member("g", "carol", group.MemberManager))
	type got struct {
		Members []string
		Count   int
		Bots    []string
	}
	for _, tt := range []struct {
		name             string
		group            string
		memberIDs, botID []string
		want             got
	}{
		{"members and bots", "g", []string{"r1", "bob", "nobody", "alice", "alice"}, []string{"r2", "alice", "r1", "r2"},
			got{[]string{"alice", "r1", "bob"}, 3, []string{"r1", "r2"}}},
		{"no ids", "g", nil, nil, got{nil, 3, nil}},
		{"members only", "g", []string{"carol"}, nil, got{[]string{"carol"}, 3, nil}},
		{"bots only", "g", nil, []string{"r1"}, got{nil, 3, []string{"r1"}}},
		{"a group without members", "empty", []string{"alice"}, []string{"r1"}, got{nil, 0, []string{"r1"}}},
		{"an unknown group", "nowhere", []string{"alice"}, nil, got{nil, 0, nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := read(t, s, func(r group.Reader) (got, error) {
				ms, n, bs, err := r.Joining(tt.group, tt.memberIDs, tt.botID)
				ids := make([]string, len(bs))
				for i, b := range bs {
					ids[i] = b.UserID
				}
				if len(ids) == 0 {
					ids = nil
				}
				if err != nil {
					return got{}, err
				}
				// GroupJoining reads the same, after the group; an unknown
				// group is its error.
				g, gms, gn, gbs, gerr := r.GroupJoining(tt.group, tt.memberIDs, tt.botID)
				if tt.group == "nowhere" {
					if !group.IsNotExist(gerr) {
						t.Errorf("GroupJoining of an unknown group: %v, want ENotExist", gerr)
					}
				} else if gerr != nil {
					return got{}, gerr
				} else if d := cmp.Diff([]any{tt.group, ms, n, bs}, []any{g.ID, gms, gn, gbs}, cmpOpts); d != "" {
					t.Errorf("GroupJoining against Group and Joining (-want +got):\n%s", d)
				}
				return got{userIDs(ms), n, ids}, nil
			})
			diff(t, "Joining", tt.want, v)
		})
	}
}
