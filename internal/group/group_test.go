package group_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// Rows of reference/wildfire-robot-api.md §4: group/create, del, get_info,
// transfer and modify.

func TestCreateGroup(t *testing.T) {
	e := newEnv(t, group.Config{MaxMembersPerCall: 3})
	existing := e.seed(group.GroupNormal, "", noRow)

	refused := []struct {
		name    string
		g       group.Group
		members []group.Member
		n       group.Notify
		want    group.Code
	}{
		{"type=-1", group.Group{ID: "new", Type: -1}, nil, group.Notify{}, group.EInvalidData},
		{"type=4", group.Group{ID: "new", Type: 4}, nil, group.Notify{}, group.EInvalidData},
		// The type is checked before the id.
		{"type=4/existing-id", group.Group{ID: existing.ID, Type: 4}, nil, group.Notify{}, group.EInvalidData},
		{"existing-id", group.Group{ID: existing.ID}, nil, group.Notify{}, group.EGroupExists},
		// The id is checked before the organization rule.
		{"existing-id/type=3", group.Group{ID: existing.ID, Type: group.GroupOrganization}, nil, group.Notify{}, group.EGroupExists},
		{"members-over-per-call-limit", group.Group{ID: "new"}, []group.Member{{UserID: mem}, {UserID: mgr}, {UserID: muted}, {UserID: allowed}}, group.Notify{}, group.EInvalidParam},
		{"empty-member-id", group.Group{ID: "new"}, []group.Member{{UserID: ""}}, group.Notify{}, group.EInvalidParam},
		{"long-group-id", group.Group{ID: strings.Repeat("g", group.MaxIDLen+1)}, nil, group.Notify{}, group.EInvalidParam},
		{"line-out-of-range", group.Group{ID: "new"}, nil, group.Notify{Lines: []int{group.MaxLine + 1}}, group.EInvalidParam},
	}
	for _, k := range kinds {
		for _, tt := range refused {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				before := e.state(existing.ID, "new")
				_, err := e.svc.CreateGroup(t.Context(), k.actor, group.CreateGroupInput{Group: tt.g, Members: tt.members, Notify: tt.n})
				checkCode(t, err, tt.want)
				e.noTrace(before, existing.ID, "new")
			})
		}
	}
	// The Admin API acting for a robot (its operator) has the robot's rights:
	// it creates an organization group, owns it and runs it.
	t.Run("admin-operator-robot/type=3", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		a := group.AsUser(robotActor)
		id, err := e.svc.CreateGroup(t.Context(), a, group.CreateGroupInput{Group: group.Group{ID: "org-by-operator", Type: group.GroupOrganization}, Members: []group.Member{{UserID: mem}}})
		checkCode(t, err, ok)
		if g, _ := e.group(id); g.Owner != robotActor || g.Type != group.GroupOrganization {
			t.Errorf("group %+v, want an organization group owned by %s", g, robotActor)
		}
		checkCode(t, e.svc.ModifyGroup(t.Context(), a, id, group.ModifyName, "renamed", group.Notify{}), ok)
		checkCode(t, e.svc.KickMembers(t.Context(), a, id, []string{mem}, group.Notify{}), ok)
		checkCode(t, e.svc.DismissGroup(t.Context(), a, id, group.Notify{}), ok)
	})
	// A user may not create an organization group; a robot may (below).
	t.Run("user/type=3", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		before := e.state("new")
		_, err := e.svc.CreateGroup(t.Context(), group.AsUser(userActor), group.CreateGroupInput{Group: group.Group{ID: "new", Type: group.GroupOrganization}})
		checkCode(t, err, group.ENotRight)
		e.noTrace(before, "new")
	})

	// A robot or user may create normal, free and restricted groups, and a
	// robot organization groups too; it becomes the owner whatever
	// group_info.owner says, every listed member joins as a normal member,
	// 0/1-style settings are kept only in 1..127 and max_member_count only
	// when positive.
	for _, k := range kinds {
		maxType := group.GroupRestricted
		if k.bot {
			maxType = group.GroupOrganization
		}
		for gt := group.GroupNormal; gt <= maxType; gt++ {
			t.Run(fmt.Sprintf("%s/%s", k.name, groupTypes[gt]), func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				id := fmt.Sprintf("c-%s-%d", k.name, gt)
				in := group.CreateGroupInput{
					Group: group.Group{
						ID: id, Name: "team", Portrait: "p.png", Owner: owner, Type: gt, Extra: "x",
						Mute: 1, JoinType: 2, PrivateChat: 127, Searchable: 128, HistoryMessage: -1,
						MaxMemberCount: 50, SuperGroup: true,
					},
					Members: []group.Member{
						{UserID: mem, Alias: "m", Extra: "me", Type: group.MemberManager},
						{UserID: botA, Type: group.MemberOwner},
						{UserID: botIce},
					},
				}
				before := e.state(id)
				got, err := e.svc.CreateGroup(t.Context(), k.actor, in)
				checkCode(t, err, ok)
				if got != id {
					t.Errorf("id = %q, want %q", got, id)
				}
				now := e.now()
				want := group.Group{
					ID: id, Name: "team", Portrait: "p.png", Owner: k.id, Type: gt, Extra: "x",
					Mute: 1, JoinType: 2, PrivateChat: 127, MaxMemberCount: 50, SuperGroup: true,
					CreatedAt: now, UpdatedAt: now,
				}
				if g, _ := e.group(id); !cmp.Equal(want, g) {
					t.Errorf("group (-want +got):\n%s", cmp.Diff(want, g))
				}
				e.checkMemberTypes(id, []idType{{k.id, group.MemberOwner}, {mem, group.MemberNormal}, {botA, group.MemberNormal}, {botIce, group.MemberNormal}})
				m, _ := e.member(id, mem)
				if m.Alias != "m" || m.Extra != "me" || !m.JoinedAt.Equal(now) {
					t.Errorf("member %s: alias %q extra %q joined %v, want m, me, %v", mem, m.Alias, m.Extra, m.JoinedAt, now)
				}
				evs := events(botA, e.event(group.EventAddRobot, id, k.id), botIce, e.event(group.EventAddRobot, id, k.id))
				if k.bot {
					evs[k.id] = []group.Event{{BotID: k.id, Type: group.EventAddRobot, GroupID: id, OperatorID: k.id, CreatedAt: now}}
				}
				e.checkDelta(before, delta{
					Messages: []group.Message{
						e.note(id, 0, k.id, group.NotifyCreateGroup, fmt.Sprintf(`{"g":%q,"o":%q,"n":"team","m":""}`, id, k.id)),
						e.iceMessage(id),
					},
					Events: evs,
				}, id)
			})
		}

		// The actor listed among the members stays the owner and keeps its alias.
		t.Run(k.name+"/actor-listed", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			id := "listed-" + k.name
			_, err := e.svc.CreateGroup(t.Context(), k.actor, group.CreateGroupInput{
				Group:   group.Group{ID: id, Name: "n"},
				Members: []group.Member{{UserID: k.id, Alias: "boss", Type: group.MemberNormal}, {UserID: mem}},
			})
			checkCode(t, err, ok)
			e.checkMemberTypes(id, []idType{{k.id, group.MemberOwner}, {mem, group.MemberNormal}})
			if m, _ := e.member(id, k.id); m.Alias != "boss" {
				t.Errorf("owner alias = %q, want boss", m.Alias)
			}
		})
	}

	// The Admin API without an operator creates any type, with the owner it names.
	for gt := group.GroupNormal; gt <= group.GroupOrganization; gt++ {
		t.Run("admin/"+groupTypes[gt], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			id := fmt.Sprintf("c-admin-%d", gt)
			before := e.state(id)
			_, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{
				Group:   group.Group{ID: id, Name: "org", Owner: botOut, Type: gt},
				Members: []group.Member{{UserID: mem}},
			})
			checkCode(t, err, ok)
			if g, _ := e.group(id); g.Owner != botOut || g.Type != gt {
				t.Errorf("owner %q type %d, want %q %d", g.Owner, g.Type, botOut, gt)
			}
			e.checkMemberTypes(id, []idType{{botOut, group.MemberOwner}, {mem, group.MemberNormal}})
			e.checkDelta(before, delta{
				Messages: []group.Message{e.note(id, 0, "", group.NotifyCreateGroup, fmt.Sprintf(`{"g":%q,"o":"","n":"org","m":""}`, id))},
				Events:   events(botOut, e.event(group.EventAddRobot, id, "")),
			}, id)
		})
	}
	t.Run("admin/no-owner", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		before := e.state("new")
		_, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "new"}})
		checkCode(t, err, group.EInvalidParam)
		e.noTrace(before, "new")
	})
	t.Run("admin/generated-id", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		id, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{Owner: owner}})
		checkCode(t, err, ok)
		if g, found := e.group(id); !strings.HasPrefix(id, "id") || !found || g.Owner != owner {
			t.Errorf("generated group %q: found %v, owner %q", id, found, g.Owner)
		}
	})
}

// Settings given at create: 0/1-style switches are kept only in 1..127
// (else 0), max_member_count only when positive.
func TestCreateGroupSettings(t *testing.T) {
	e := newEnv(t, group.Config{})
	tests := []struct {
		name string
		in   group.Group
		want group.Group
	}{
		{"switches=0", group.Group{}, group.Group{}},
		{"switches=1", group.Group{Mute: 1, JoinType: 1, PrivateChat: 1, Searchable: 1, HistoryMessage: 1}, group.Group{Mute: 1, JoinType: 1, PrivateChat: 1, Searchable: 1, HistoryMessage: 1}},
		{"switches=127", group.Group{Mute: 127, JoinType: 127, PrivateChat: 127, Searchable: 127, HistoryMessage: 127}, group.Group{Mute: 127, JoinType: 127, PrivateChat: 127, Searchable: 127, HistoryMessage: 127}},
		{"switches=128", group.Group{Mute: 128, JoinType: 128, PrivateChat: 128, Searchable: 128, HistoryMessage: 128}, group.Group{}},
		{"switches=-1", group.Group{Mute: -1, JoinType: -1, PrivateChat: -1, Searchable: -1, HistoryMessage: -1}, group.Group{}},
		{"max_member_count=-5", group.Group{MaxMemberCount: -5}, group.Group{}},
		{"max_member_count=7", group.Group{MaxMemberCount: 7}, group.Group{MaxMemberCount: 7}},
		{"super_group", group.Group{SuperGroup: true}, group.Group{SuperGroup: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			in := tt.in
			in.ID, in.Name = "s-"+tt.name, "s"
			_, err := e.svc.CreateGroup(t.Context(), group.Robot(robotActor), group.CreateGroupInput{Group: in})
			checkCode(t, err, ok)
			want := tt.want
			want.ID, want.Name, want.Owner, want.CreatedAt, want.UpdatedAt = in.ID, "s", robotActor, e.now(), e.now()
			if g, _ := e.group(in.ID); !cmp.Equal(want, g) {
				t.Errorf("group (-want +got):\n%s", cmp.Diff(want, g))
			}
		})
	}
}

// The member limit holds at create too (Wildfire checks it on add only): the
// owner and every distinct listed member count, against the group's
// max_member_count when given, else the platform's limit.
func TestCreateGroupMemberLimit(t *testing.T) {
	e := newEnv(t, group.Config{MaxGroupMembers: 3})
	tests := []struct {
		name    string
		max     int // the group's own limit
		members []string
		want    group.Code
	}{
		{"platform/reaches", 0, []string{mem, mgr}, ok},
		{"platform/exceeds", 0, []string{mem, mgr, muted}, group.EExceedMax},
		{"platform/repeats-count-once", 0, []string{mem, mgr, mem, robotActor}, ok},
		{"group/reaches", 2, []string{mem}, ok},
		{"group/exceeds", 2, []string{mem, mgr}, group.EExceedMax},
		{"group/above-platform", 4, []string{mem, mgr, muted}, ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			id := "big-" + strings.ReplaceAll(tt.name, "/", "-")
			var members []group.Member
			for _, m := range tt.members {
				members = append(members, group.Member{UserID: m})
			}
			before := e.state(id)
			_, err := e.svc.CreateGroup(t.Context(), group.Robot(robotActor), group.CreateGroupInput{
				Group: group.Group{ID: id, MaxMemberCount: tt.max}, Members: members,
			})
			checkCode(t, err, tt.want)
			if tt.want != ok {
				e.noTrace(before, id)
			}
		})
	}
}

func TestDismissGroup(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Columns: owner, manager, member, silent, removed, allowed, outsider.
	// robot: the robot's codes where they differ: it manages an
	// organization group it owns as the owner of a restricted group.
	matrix := []struct {
		gtype int
		want  string
		robot string
	}{
		{group.GroupNormal, "orrrrrr", ""},
		{group.GroupFree, "rrrrrrr", ""},
		{group.GroupRestricted, "orrrrrr", ""},
		{group.GroupOrganization, "rrrrrrr", "orrrrrr"},
	}
	// check verifies a successful dismissal of f by actorID.
	check := func(e *env, f fixture, actorID string, before state) {
		e.t.Helper()
		if _, found := e.group(f.ID); found {
			e.t.Errorf("group %s still exists", f.ID)
		}
		for _, u := range users {
			if m, found := e.member(f.ID, u); found {
				e.t.Errorf("member row %+v survives the dismissal", m)
			}
		}
		// Every active bot member is told, the dismissing robot included.
		evs := map[string][]group.Event{}
		for _, b := range activeBots(f.Active) {
			ev := e.event(group.EventDelRobot, f.ID, actorID)
			ev.BotID = b
			evs[b] = append(evs[b], ev)
		}
		// The timeline stays, with the notification sent before the deletion.
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, actorID, group.NotifyDismissGroup, fmt.Sprintf(`{"g":%q,"o":%q,"m":""}`, f.ID, actorID))},
			Events:   evs,
		}, f.ID)
		if ids, err := e.svc.GroupsOfUser(e.t.Context(), botA); err != nil || contains(ids, f.ID) {
			e.t.Errorf("GroupsOfUser(%s) = %v, %v; want without %s", botA, ids, err, f.ID)
		}
	}
	for _, k := range kinds {
		for _, row := range matrix {
			for i, want := range codes(t, k.row(row.want, row.robot)) {
				r := roles[i]
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, groupTypes[row.gtype], r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(row.gtype, k.id, r.typ)
					before := e.state(f.ID)
					checkCode(t, e.svc.DismissGroup(t.Context(), k.actor, f.ID, group.Notify{}), want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					check(e, f, k.id, before)
				})
			}
		}
	}
	for gt := range groupTypes {
		t.Run("admin/"+groupTypes[gt], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(gt, "", noRow)
			before := e.state(f.ID)
			checkCode(t, e.svc.DismissGroup(t.Context(), group.Admin, f.ID, group.Notify{}), ok)
			check(e, f, "", before)
		})
	}
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, e.svc.DismissGroup(t.Context(), group.Robot(robotActor), "missing", group.Notify{}), group.ENotExist)
		checkCode(t, e.svc.DismissGroup(t.Context(), group.Admin, "missing", group.Notify{}), group.ENotExist)
	})
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// get_info has no membership check.
func TestGetGroup(t *testing.T) {
	e := newEnv(t, group.Config{})
	f := e.seed(group.GroupRestricted, "", noRow, withJoinType(group.JoinManagers))
	want, _ := e.group(f.ID)
	got, err := e.svc.GetGroup(t.Context(), f.ID)
	checkCode(t, err, ok)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetGroup (-want +got):\n%s", diff)
	}
	_, err = e.svc.GetGroup(t.Context(), "missing")
	checkCode(t, err, group.ENotExist)
}

func TestTransferGroup(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Columns: owner, manager, member, silent, removed, allowed, outsider.
	// Free groups: Wildfire lets anyone transfer; qun requires an active
	// member (a deliberate deviation, see TransferGroup), so strangers get 9.
	// robot: the robot's codes where they differ (a robot owner manages
	// its organization group).
	matrix := []struct {
		gtype int
		want  string
		robot string
	}{
		{group.GroupNormal, "orrrrrr", ""},
		{group.GroupFree, "oooonon", ""},
		{group.GroupRestricted, "orrrrrr", ""},
		{group.GroupOrganization, "rrrrrrr", "orrrrrr"},
	}
	// check verifies a transfer to mem, who is a normal member.
	check := func(e *env, f fixture, actorID string, before state) {
		g, _ := e.group(f.ID)
		if g.Owner != mem || !g.UpdatedAt.Equal(e.now()) {
			e.t.Errorf("group owner %q updated %v, want %q %v", g.Owner, g.UpdatedAt, mem, e.now())
		}
		e.checkMemberTypes(f.ID, f.after(idType{f.Owner, group.MemberNormal}, idType{mem, group.MemberOwner}))
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, actorID, group.NotifyTransferOwner, fmt.Sprintf(`{"g":%q,"o":%q,"m":%q}`, f.ID, actorID, mem))},
		}, f.ID)
	}
	for _, k := range kinds {
		for _, row := range matrix {
			for i, want := range codes(t, k.row(row.want, row.robot)) {
				r := roles[i]
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, groupTypes[row.gtype], r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(row.gtype, k.id, r.typ)
					before := e.state(f.ID)
					err := e.svc.TransferGroup(t.Context(), k.actor, f.ID, mem, group.Notify{})
					checkCode(t, err, want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					check(e, f, k.id, before)
				})
			}
		}
	}
	for gt := range groupTypes {
		t.Run("admin/"+groupTypes[gt], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(gt, "", noRow)
			before := e.state(f.ID)
			checkCode(t, e.svc.TransferGroup(t.Context(), group.Admin, f.ID, mem, group.Notify{}), ok)
			check(e, f, "", before)
		})
	}

	// The new owner is not checked for membership: one who is not a member
	// (or was removed) joins as owner; a robot gets GROUP_ADD_ROBOT and posts
	// its ice-breaker.
	t.Run("new-owner-outsider-robot", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		before := e.state(f.ID)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.Robot(robotActor), f.ID, botIce, group.Notify{}), ok)
		e.checkMemberTypes(f.ID, f.after(idType{robotActor, group.MemberNormal}, idType{botIce, group.MemberOwner}))
		if m, _ := e.member(f.ID, botIce); !m.JoinedAt.Equal(e.now()) {
			e.t.Errorf("new owner joined at %v, want %v", m.JoinedAt, e.now())
		}
		e.checkDelta(before, delta{
			Messages: []group.Message{
				e.note(f.ID, 0, robotActor, group.NotifyTransferOwner, fmt.Sprintf(`{"g":%q,"o":%q,"m":%q}`, f.ID, robotActor, botIce)),
				e.iceMessage(f.ID),
			},
			Events: events(botIce, e.event(group.EventAddRobot, f.ID, robotActor)),
		}, f.ID)
	})
	t.Run("new-owner-removed", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.AsUser(userActor), f.ID, gone, group.Notify{}), ok)
		e.checkMemberTypes(f.ID, f.after(idType{userActor, group.MemberNormal}, idType{gone, group.MemberOwner}))
	})
	t.Run("new-owner-is-owner", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		before := e.state(f.ID)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.AsUser(userActor), f.ID, userActor, group.Notify{}), ok)
		e.checkMemberTypes(f.ID, f.Active)
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, userActor, group.NotifyTransferOwner, fmt.Sprintf(`{"g":%q,"o":%q,"m":%q}`, f.ID, userActor, userActor))},
		}, f.ID)
	})
	// qun's own rule: a new owner who joins counts against the member limit.
	t.Run("new-owner-joins-full-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		f2 := e.seed(group.GroupNormal, userActor, group.MemberOwner, withMaxMembers(len(f.Active)))
		before := e.state(f2.ID)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.AsUser(userActor), f2.ID, newbie, group.Notify{}), group.EExceedMax)
		e.noTrace(before, f2.ID)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.AsUser(userActor), f2.ID, mem, group.Notify{}), ok)
	})
	t.Run("empty-new-owner", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		before := e.state(f.ID)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.AsUser(userActor), f.ID, "", group.Notify{}), group.EInvalidParam)
		e.noTrace(before, f.ID)
	})
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, e.svc.TransferGroup(t.Context(), group.Robot(robotActor), "missing", mem, group.Notify{}), group.ENotExist)
	})
}

// modifyValue is a valid value of a modify type, what it sets and the
// notification it posts (0: none).
type modifyValue struct {
	value  string
	set    func(*group.Group)
	notify int
}

var modifyValues = map[int]modifyValue{
	group.ModifyName:           {"new name", func(g *group.Group) { g.Name = "new name" }, group.NotifyChangeName},
	group.ModifyPortrait:       {"new.png", func(g *group.Group) { g.Portrait = "new.png" }, group.NotifyChangePortrait},
	group.ModifyExtra:          {"new extra", func(g *group.Group) { g.Extra = "new extra" }, group.NotifyChangeExtra},
	group.ModifyMute:           {"1", func(g *group.Group) { g.Mute = 1 }, group.NotifyChangeMute},
	group.ModifyJoinType:       {"2", func(g *group.Group) { g.JoinType = 2 }, group.NotifyChangeJoinType},
	group.ModifyPrivateChat:    {"1", func(g *group.Group) { g.PrivateChat = 1 }, group.NotifyChangePrivateChat},
	group.ModifySearchable:     {"1", func(g *group.Group) { g.Searchable = 1 }, group.NotifyChangeSearchable},
	group.ModifyHistoryMessage: {"1", func(g *group.Group) { g.HistoryMessage = 1 }, 0},
	group.ModifyMaxMemberCount: {"100", func(g *group.Group) { g.MaxMemberCount = 100 }, 0},
	group.ModifySuperGroup:     {"1", func(g *group.Group) { g.SuperGroup = true }, 0},
	group.ModifyGroupType:      {"3", func(g *group.Group) { g.Type = group.GroupOrganization }, 0},
}

// checkModified verifies a successful modify of f by actorID.
func (e *env) checkModified(f fixture, before state, actorID string, typ int) {
	e.t.Helper()
	v := modifyValues[typ]
	want := before.Groups[f.ID]
	v.set(&want)
	want.UpdatedAt = e.now()
	if g, _ := e.group(f.ID); !cmp.Equal(want, g) {
		e.t.Errorf("group (-want +got):\n%s", cmp.Diff(want, g))
	}
	var msgs []group.Message
	if v.notify != 0 {
		msgs = append(msgs, e.note(f.ID, 0, actorID, v.notify, fmt.Sprintf(`{"g":%q,"o":%q,"n":%q,"m":""}`, f.ID, actorID, v.value)))
	}
	e.checkDelta(before, delta{Messages: msgs}, f.ID)
}

func TestModifyGroup(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Columns: modify types 0..7, then -1. Organization groups allow only
	// 2, 3 and 5, checked before membership; then the actor must be an
	// active member; restricted and organization groups need the owner or
	// a manager; in normal groups plain members change only 0..2; in free
	// groups everyone changes only 0..2; a type outside 0..6 is 251 last. A
	// robot owning an organization group changes it as the owner of a
	// restricted group (robotOwner: its owner row).
	colTypes := []int{0, 1, 2, 3, 4, 5, 6, 7, -1}
	matrix := []struct {
		gtype      int
		want       [7]string // per role
		robotOwner string
	}{
		{group.GroupNormal, [7]string{"ooooooopp", "ooooooopp", "ooorrrrrr", "ooorrrrrr", "nnnnnnnnn", "ooorrrrrr", "nnnnnnnnn"}, ""},
		{group.GroupFree, [7]string{"ooorrrrrr", "ooorrrrrr", "ooorrrrrr", "ooorrrrrr", "nnnnnnnnn", "ooorrrrrr", "nnnnnnnnn"}, ""},
		{group.GroupRestricted, [7]string{"ooooooopp", "ooooooopp", "rrrrrrrrr", "rrrrrrrrr", "nnnnnnnnn", "rrrrrrrrr", "nnnnnnnnn"}, ""},
		{group.GroupOrganization, [7]string{"rroororrr", "rroororrr", "rrrrrrrrr", "rrrrrrrrr", "rrnnrnrrr", "rrrrrrrrr", "rrnnrnrrr"}, "ooooooopp"},
	}
	for _, k := range kinds {
		for _, row := range matrix {
			for ri, r := range roles {
				cells := row.want[ri]
				if r.typ == group.MemberOwner {
					cells = k.row(cells, row.robotOwner)
				}
				for ci, want := range codes(t, cells) {
					typ := colTypes[ci]
					t.Run(fmt.Sprintf("%s/%s/%s/type=%d", k.name, groupTypes[row.gtype], r.name, typ), func(t *testing.T) {
						t.Parallel()
						e := e.with(t)
						f := e.seed(row.gtype, k.id, r.typ)
						before := e.state(f.ID)
						value := "1"
						if v, found := modifyValues[typ]; found {
							value = v.value
						}
						err := e.svc.ModifyGroup(t.Context(), k.actor, f.ID, typ, value, group.Notify{})
						checkCode(t, err, want)
						if want != ok {
							e.noTrace(before, f.ID)
							return
						}
						e.checkModified(f, before, k.id, typ)
					})
				}
			}
		}
	}
	// The Admin API acting on its own changes every field of every group,
	// including its own types 7..10, which post no notification.
	for gt := range groupTypes {
		for typ := -1; typ <= group.ModifyGroupType+1; typ++ {
			want := ok
			if typ < 0 || typ > group.ModifyGroupType {
				want = group.EInvalidParam
			}
			t.Run(fmt.Sprintf("admin/%s/type=%d", groupTypes[gt], typ), func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				f := e.seed(gt, "", noRow)
				before := e.state(f.ID)
				value := "1"
				if v, found := modifyValues[typ]; found {
					value = v.value
				}
				checkCode(t, e.svc.ModifyGroup(t.Context(), group.Admin, f.ID, typ, value, group.Notify{}), want)
				if want != ok {
					e.noTrace(before, f.ID)
					return
				}
				e.checkModified(f, before, "", typ)
			})
		}
	}

	// Values are parsed: switches are 0 or 1, join types 0..2.
	values := []struct {
		name  string
		actor group.Actor
		typ   int
		value string
		want  group.Code
	}{
		{"mute=0", group.Robot(robotActor), group.ModifyMute, "0", ok},
		{"mute=2", group.Robot(robotActor), group.ModifyMute, "2", group.EInvalidParam},
		{"mute=x", group.Robot(robotActor), group.ModifyMute, "x", group.EInvalidParam},
		{"mute=empty", group.Robot(robotActor), group.ModifyMute, "", group.EInvalidParam},
		{"join_type=0", group.Robot(robotActor), group.ModifyJoinType, "0", ok},
		{"join_type=3", group.Robot(robotActor), group.ModifyJoinType, "3", group.EInvalidParam},
		{"join_type=-1", group.Robot(robotActor), group.ModifyJoinType, "-1", group.EInvalidParam},
		{"private_chat=2", group.Robot(robotActor), group.ModifyPrivateChat, "2", group.EInvalidParam},
		{"searchable=yes", group.Robot(robotActor), group.ModifySearchable, "yes", group.EInvalidParam},
		{"name=empty", group.Robot(robotActor), group.ModifyName, "", ok},
		{"admin/max_member_count=-1", group.Admin, group.ModifyMaxMemberCount, "-1", group.EInvalidParam},
		{"admin/max_member_count=0", group.Admin, group.ModifyMaxMemberCount, "0", ok},
		{"admin/super_group=2", group.Admin, group.ModifySuperGroup, "2", group.EInvalidParam},
		{"admin/group_type=4", group.Admin, group.ModifyGroupType, "4", group.EInvalidParam},
		{"admin/group_type=1", group.Admin, group.ModifyGroupType, "1", ok},
		{"admin/history_message=x", group.Admin, group.ModifyHistoryMessage, "x", group.EInvalidParam},
	}
	for _, tt := range values {
		t.Run("value/"+tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner, withMaxMembers(20))
			before := e.state(f.ID)
			checkCode(t, e.svc.ModifyGroup(t.Context(), tt.actor, f.ID, tt.typ, tt.value, group.Notify{}), tt.want)
			if tt.want != ok {
				e.noTrace(before, f.ID)
			}
		})
	}
	t.Run("value/parsed", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner, withMute(), withJoinType(group.JoinManagers))
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), f.ID, group.ModifyMute, "0", group.Notify{}), ok)
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), f.ID, group.ModifyJoinType, "1", group.Notify{}), ok)
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Admin, f.ID, group.ModifyMaxMemberCount, "0", group.Notify{}), ok)
		if g, _ := e.group(f.ID); g.Mute != 0 || g.JoinType != group.JoinMembers || g.MaxMemberCount != 0 {
			t.Errorf("mute %d join_type %d max %d, want 0 1 0", g.Mute, g.JoinType, g.MaxMemberCount)
		}
	})
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), "missing", group.ModifyName, "x", group.Notify{}), group.ENotExist)
		// The group is looked up before the modify type is checked.
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), "missing", 7, "1", group.Notify{}), group.ENotExist)
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Admin, "missing", group.ModifyName, "x", group.Notify{}), group.ENotExist)
	})
}
