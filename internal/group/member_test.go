package group_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qun-chat/qun/internal/group"
)

// Rows of reference/wildfire-robot-api.md §4: group/member/list, get, add,
// del, quit, set_alias, set_extra, and the professional manager/set, mute
// and allow.

func TestListMembers(t *testing.T) {
	e := newEnv(t, group.Config{})
	for _, k := range kinds {
		for gt := range groupTypes {
			for _, r := range roles {
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, groupTypes[gt], r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(gt, k.id, r.typ)
					ms, err := e.svc.ListMembers(t.Context(), k.actor, f.ID)
					checkCode(t, err, ok)
					var want []idType
					if r.isActive() {
						want = f.Active // removed rows are hidden
					}
					var got []idType
					for _, m := range ms {
						got = append(got, idType{m.UserID, m.Type})
					}
					if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("members (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupOrganization, "", noRow)
		e.checkMemberTypes(f.ID, f.Active)
	})
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		_, err := e.svc.ListMembers(t.Context(), group.Robot(robotActor), "missing")
		checkCode(t, err, group.ENotExist)
		_, err = e.svc.ListMembers(t.Context(), group.Admin, "missing")
		checkCode(t, err, group.ENotExist)
	})
}

// MembersPage is the keyset-paged listing of the Bot Open Platform: unlike
// member/list, a robot or user that is not a member gets 9.
func TestMembersPage(t *testing.T) {
	e := newEnv(t, group.Config{})
	for _, k := range kinds {
		for _, r := range roles {
			want := ok
			if !r.isActive() {
				want = group.ENotInGroup
			}
			t.Run(fmt.Sprintf("%s/%s", k.name, r.name), func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				f := e.seed(group.GroupNormal, k.id, r.typ)
				var got []idType
				var after int64
				for page := 0; ; page++ {
					ms, next, err := e.svc.MembersPage(t.Context(), k.actor, f.ID, after, 2)
					checkCode(t, err, want)
					if want != ok {
						return
					}
					if len(ms) > 2 || page > len(f.Active) {
						t.Fatalf("page %d has %d members", page, len(ms))
					}
					for _, m := range ms {
						got = append(got, idType{m.UserID, m.Type})
					}
					if next == 0 {
						break
					}
					after = next
				}
				if diff := cmp.Diff(f.Active, got); diff != "" {
					t.Errorf("members (-want +got):\n%s", diff)
				}
			})
		}
	}
	for _, tt := range []struct {
		name  string
		gid   string
		actor group.Actor
		after int64
		limit int
		want  group.Code
	}{
		{"admin", "", group.Admin, 0, group.MaxMembersPage, ok},
		{"limit=0", "", group.Admin, 0, 0, group.EInvalidParam},
		{"limit=501", "", group.Admin, 0, group.MaxMembersPage + 1, group.EInvalidParam},
		{"after=-1", "", group.Admin, -1, 10, group.EInvalidParam},
		{"missing-group", "missing", group.Admin, 0, 10, group.ENotExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupOrganization, "", noRow)
			gid := f.ID
			if tt.gid != "" {
				gid = tt.gid
			}
			ms, next, err := e.svc.MembersPage(t.Context(), tt.actor, gid, tt.after, tt.limit)
			checkCode(t, err, tt.want)
			if tt.want == ok && (len(ms) != len(f.Active) || next != 0) {
				t.Errorf("%d members, next %d; want %d, 0", len(ms), next, len(f.Active))
			}
		})
	}
}

func TestGetMember(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Rows: the actor's role; columns: target mem, mgr, removed, never a member.
	targets := []string{mem, mgr, gone, nobody}
	matrix := map[string]string{
		"owner":    "ooxx",
		"manager":  "ooxx",
		"member":   "ooxx",
		"silent":   "ooxx",
		"removed":  "nnnn",
		"allowed":  "ooxx",
		"outsider": "nnnn",
	}
	for _, k := range kinds {
		for _, r := range roles {
			for i, want := range codes(t, matrix[r.name]) {
				target := targets[i]
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, r.name, target), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(group.GroupNormal, k.id, r.typ)
					m, err := e.svc.GetMember(t.Context(), k.actor, f.ID, target)
					checkCode(t, err, want)
					if want == ok {
						if stored, _ := e.member(f.ID, target); !cmp.Equal(stored, m) {
							t.Errorf("member (-stored +got):\n%s", cmp.Diff(stored, m))
						}
					}
				})
			}
		}
	}
	for i, want := range codes(t, "ooxx") {
		t.Run("admin/"+targets[i], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupOrganization, "", noRow)
			_, err := e.svc.GetMember(t.Context(), group.Admin, f.ID, targets[i])
			checkCode(t, err, want)
		})
	}
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		_, err := e.svc.GetMember(t.Context(), group.Robot(robotActor), "missing", mem)
		checkCode(t, err, group.ENotExist)
	})
}

func TestAddMembers(t *testing.T) {
	e := newEnv(t, group.Config{MaxMembersPerCall: 3})
	// Wildfire's order: organization → 248; actor removed and not joining
	// itself → 9; actor silent → 248; restricted group and actor not owner or
	// manager: join_type 2 → 248, join_type 1 and self-join → 248; actor not
	// a member and not joining itself → 9; nobody new → 12.
	// Columns: owner, manager, member, silent, removed, allowed, outsider.
	// robot: the robot's codes where they differ (a robot owning an
	// organization group adds as the owner of a restricted group).
	matrix := []struct {
		gtype    int
		joinType int
		self     bool
		want     string
		robot    string
	}{
		{group.GroupNormal, group.JoinAnyone, false, "ooornon", ""},
		{group.GroupNormal, group.JoinManagers, false, "ooornon", ""},
		{group.GroupFree, group.JoinAnyone, false, "ooornon", ""},
		{group.GroupFree, group.JoinManagers, false, "ooornon", ""},
		{group.GroupRestricted, group.JoinAnyone, false, "ooornon", ""},
		{group.GroupRestricted, group.JoinMembers, false, "ooornon", ""},
		{group.GroupRestricted, group.JoinManagers, false, "oorrnrr", ""},
		{group.GroupOrganization, group.JoinAnyone, false, "rrrrrrr", "orrrrrr"},
		{group.GroupOrganization, group.JoinManagers, false, "rrrrrrr", "orrrrrr"},
		{group.GroupNormal, group.JoinAnyone, true, "aaaroao", ""},
		{group.GroupNormal, group.JoinManagers, true, "aaaroao", ""},
		{group.GroupFree, group.JoinAnyone, true, "aaaroao", ""},
		{group.GroupRestricted, group.JoinAnyone, true, "aaaroao", ""},
		{group.GroupRestricted, group.JoinMembers, true, "aarrrrr", ""},
		{group.GroupRestricted, group.JoinManagers, true, "aarrrrr", ""},
		{group.GroupOrganization, group.JoinAnyone, true, "rrrrrrr", "arrrrrr"},
	}
	for _, k := range kinds {
		for _, row := range matrix {
			for i, want := range codes(t, k.row(row.want, row.robot)) {
				r := roles[i]
				how := "invite"
				if row.self {
					how = "self"
				}
				t.Run(fmt.Sprintf("%s/%s/join=%d/%s/%s", k.name, groupTypes[row.gtype], row.joinType, how, r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(row.gtype, k.id, r.typ, withJoinType(row.joinType))
					// Given types are forced to normal; alias and extra are kept.
					add := []group.Member{{UserID: botOut, Alias: "b", Extra: "e", Type: group.MemberManager}, {UserID: newbie, Type: group.MemberOwner}}
					joined := []idType{{botOut, group.MemberNormal}, {newbie, group.MemberNormal}}
					if row.self {
						add = []group.Member{{UserID: k.id}}
						joined = []idType{{k.id, group.MemberNormal}}
					}
					before := e.state(f.ID)
					err := e.svc.AddMembers(t.Context(), k.actor, f.ID, add, group.Notify{})
					checkCode(t, err, want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					e.checkAdded(f, before, k.id, add, joined)
				})
			}
		}
	}
	for gt := range groupTypes {
		t.Run("admin/"+groupTypes[gt], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(gt, "", noRow, withJoinType(group.JoinManagers))
			add := []group.Member{{UserID: botOut}, {UserID: gone}}
			before := e.state(f.ID)
			checkCode(t, e.svc.AddMembers(t.Context(), group.Admin, f.ID, add, group.Notify{}), ok)
			e.checkAdded(f, before, "", add, []idType{{botOut, group.MemberNormal}, {gone, group.MemberNormal}})
		})
	}

	// Members present already are skipped but still listed in the notification.
	t.Run("skips-present", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		add := []group.Member{{UserID: mem, Alias: "changed"}, {UserID: botIce}}
		before := e.state(f.ID)
		checkCode(t, e.svc.AddMembers(t.Context(), group.Robot(robotActor), f.ID, add, group.Notify{}), ok)
		if m, _ := e.member(f.ID, mem); m.Alias != "" || !m.UpdatedAt.Equal(before.Members[f.ID+"/"+mem].UpdatedAt) {
			t.Errorf("present member %s was changed: %+v", mem, m)
		}
		e.checkMemberTypes(f.ID, f.after(idType{botIce, group.MemberNormal}))
		e.checkDelta(before, delta{
			Messages: []group.Message{
				e.note(f.ID, 0, robotActor, group.NotifyAddMember, fmt.Sprintf(`{"g":%q,"o":%q,"ms":%s}`, f.ID, robotActor, jsonList(mem, botIce))),
				e.iceMessage(f.ID),
			},
			Events: events(botIce, e.event(group.EventAddRobot, f.ID, robotActor)),
		}, f.ID)
	})
	t.Run("all-present", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		before := e.state(f.ID)
		err := e.svc.AddMembers(t.Context(), group.Robot(robotActor), f.ID, []group.Member{{UserID: mem}, {UserID: muted}, {UserID: mem}}, group.Notify{})
		checkCode(t, err, group.EAlreadyMember)
		e.noTrace(before, f.ID)
	})
	// The owner's id joins as owner (a free group's owner may have left).
	t.Run("owner-rejoins-as-owner", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seedMembers(group.GroupFree, owner, []idType{{owner, group.MemberRemoved}, {mem, group.MemberNormal}})
		checkCode(t, e.svc.AddMembers(t.Context(), group.AsUser(mem), f.ID, []group.Member{{UserID: owner}}, group.Notify{}), ok)
		e.checkMemberTypes(f.ID, []idType{{owner, group.MemberOwner}, {mem, group.MemberNormal}})
	})
	refused := []struct {
		name string
		gid  string
		add  []group.Member
		n    group.Notify
		want group.Code
	}{
		{"empty-list", "", nil, group.Notify{}, group.EInvalidParam},
		{"over-per-call-limit", "", []group.Member{{UserID: "a"}, {UserID: "b"}, {UserID: "c"}, {UserID: "d"}}, group.Notify{}, group.EInvalidParam},
		{"empty-id", "", []group.Member{{UserID: newbie}, {UserID: ""}}, group.Notify{}, group.EInvalidParam},
		{"too-many-lines", "", []group.Member{{UserID: newbie}}, group.Notify{Lines: make([]int, group.DefaultMaxLines+1)}, group.EInvalidParam},
		{"negative-line", "", []group.Member{{UserID: newbie}}, group.Notify{Lines: []int{-1}}, group.EInvalidParam},
		{"missing-group", "missing", []group.Member{{UserID: newbie}}, group.Notify{}, group.ENotExist},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			gid := f.ID
			if tt.gid != "" {
				gid = tt.gid
			}
			before := e.state(f.ID)
			checkCode(t, e.svc.AddMembers(t.Context(), group.Robot(robotActor), gid, tt.add, tt.n), tt.want)
			e.noTrace(before, f.ID)
		})
	}
}

// checkAdded verifies a successful add of add by actorID, where joined are
// the rows that should have joined.
func (e *env) checkAdded(f fixture, before state, actorID string, add []group.Member, joined []idType) {
	e.t.Helper()
	e.checkMemberTypes(f.ID, f.after(joined...))
	ids := make([]string, len(add))
	for i, m := range add {
		ids[i] = m.UserID
	}
	evs := map[string][]group.Event{}
	for _, j := range joined {
		for _, b := range bots {
			if j.ID == b {
				ev := e.event(group.EventAddRobot, f.ID, actorID)
				ev.BotID = b
				evs[b] = []group.Event{ev}
			}
		}
		m, _ := e.member(f.ID, j.ID)
		if !m.JoinedAt.Equal(e.now()) {
			e.t.Errorf("member %s joined at %v, want %v", j.ID, m.JoinedAt, e.now())
		}
		for _, a := range add {
			if a.UserID == j.ID && (m.Alias != a.Alias || m.Extra != a.Extra) {
				e.t.Errorf("member %s: alias %q extra %q, want %q %q", j.ID, m.Alias, m.Extra, a.Alias, a.Extra)
			}
		}
	}
	e.checkDelta(before, delta{
		Messages: []group.Message{e.note(f.ID, 0, actorID, group.NotifyAddMember, fmt.Sprintf(`{"g":%q,"o":%q,"ms":%s}`, f.ID, actorID, jsonList(ids...)))},
		Events:   evs,
	}, f.ID)
}

// existing + new > limit → 240, with the group's max_member_count when set,
// else the platform's.
func TestAddMembersLimit(t *testing.T) {
	e := newEnv(t, group.Config{MaxGroupMembers: 7})
	// The seeded group has 6 active members with the actor as owner.
	tests := []struct {
		name string
		max  int // the group's own limit
		add  []string
		want group.Code
	}{
		{"platform/reaches", 0, []string{newbie}, ok},
		{"platform/exceeds", 0, []string{newbie, botOut}, group.EExceedMax},
		{"platform/removed-counts-as-new", 0, []string{newbie, gone}, group.EExceedMax},
		{"platform/present-not-counted", 0, []string{newbie, mem, mgr}, ok},
		{"group/reaches", 8, []string{newbie, botOut}, ok},
		{"group/exceeds", 8, []string{newbie, botOut, gone}, group.EExceedMax},
		{"group/below-platform", 6, []string{newbie}, group.EExceedMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			var opts []groupOpt
			if tt.max > 0 {
				opts = append(opts, withMaxMembers(tt.max))
			}
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner, opts...)
			if len(f.Active) != 6 {
				t.Fatalf("seeded %d active members, want 6", len(f.Active))
			}
			var add []group.Member
			for _, id := range tt.add {
				add = append(add, group.Member{UserID: id})
			}
			before := e.state(f.ID)
			err := e.svc.AddMembers(t.Context(), group.Robot(robotActor), f.ID, add, group.Notify{})
			checkCode(t, err, tt.want)
			if tt.want != ok {
				e.noTrace(before, f.ID)
			}
		})
	}
}

func TestKickMembers(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Columns: owner, manager, member, silent, removed, allowed, outsider.
	// Free groups: Wildfire lets anyone kick; qun requires an active member
	// (a deliberate deviation, see KickMembers), so strangers get 9.
	// robot: the robot's codes where they differ (a robot owner manages
	// its organization group).
	matrix := []struct {
		gtype int
		want  string
		robot string
	}{
		{group.GroupNormal, "oorrrrr", ""},
		{group.GroupFree, "oooonon", ""},
		{group.GroupRestricted, "oorrrrr", ""},
		{group.GroupOrganization, "rrrrrrr", "orrrrrr"},
	}
	// Members are not checked to exist; removed ones stay as they are.
	kick := []string{mem, botA, nobody, gone}
	check := func(e *env, f fixture, before state, actorID string) {
		e.t.Helper()
		e.checkMemberTypes(f.ID, f.after(idType{mem, group.MemberRemoved}, idType{botA, group.MemberRemoved}))
		for _, id := range []string{mem, botA} {
			if m, _ := e.member(f.ID, id); m.Type != group.MemberRemoved || !m.UpdatedAt.Equal(e.now()) {
				e.t.Errorf("kicked %s: type %d updated %v", id, m.Type, m.UpdatedAt)
			}
		}
		e.checkMemberType(f.ID, nobody, noRow)
		if m, _ := e.member(f.ID, gone); !cmp.Equal(m, before.Members[f.ID+"/"+gone]) {
			e.t.Errorf("removed member changed: %+v", m)
		}
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, actorID, group.NotifyKickMember, fmt.Sprintf(`{"g":%q,"o":%q,"ms":%s}`, f.ID, actorID, jsonList(kick...)))},
			Events:   events(botA, e.event(group.EventDelRobot, f.ID, actorID)),
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
					checkCode(t, e.svc.KickMembers(t.Context(), k.actor, f.ID, kick, group.Notify{}), want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					check(e, f, before, k.id)
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
			checkCode(t, e.svc.KickMembers(t.Context(), group.Admin, f.ID, kick, group.Notify{}), ok)
			check(e, f, before, "")
		})
	}
	// The owner in the list → 248, whoever asks.
	ownerInList := []struct {
		name  string
		gtype int
		actor group.Actor
		role  int
	}{
		{"owner", group.GroupNormal, group.Robot(robotActor), group.MemberOwner},
		{"manager", group.GroupNormal, group.Robot(robotActor), group.MemberManager},
		{"free-member", group.GroupFree, group.Robot(robotActor), group.MemberNormal},
		{"admin", group.GroupNormal, group.Admin, noRow},
	}
	for _, tt := range ownerInList {
		t.Run("owner-in-list/"+tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			actorID := robotActor
			if tt.actor.Admin {
				actorID = ""
			}
			f := e.seed(tt.gtype, actorID, tt.role)
			before := e.state(f.ID)
			checkCode(t, e.svc.KickMembers(t.Context(), tt.actor, f.ID, []string{mem, f.Owner}, group.Notify{}), group.ENotRight)
			e.noTrace(before, f.ID)
		})
	}
	t.Run("empty-list", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		checkCode(t, e.svc.KickMembers(t.Context(), group.Robot(robotActor), f.ID, nil, group.Notify{}), group.EInvalidParam)
	})
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, e.svc.KickMembers(t.Context(), group.Robot(robotActor), "missing", []string{mem}, group.Notify{}), group.ENotExist)
	})
}

func TestQuitGroup(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Organization groups → 248 first, but for a robot owner, which leaves
	// as the owner of a restricted group does. Wildfire does not check
	// membership; qun does (a deliberate deviation, see QuitGroup: otherwise
	// anyone could post a notification into any group), so a removed member
	// or a stranger gets 9.
	for _, k := range kinds {
		for gt := range groupTypes {
			for _, r := range roles {
				want := ok
				switch {
				case gt == group.GroupOrganization && !(k.bot && r.typ == group.MemberOwner):
					want = group.ENotRight
				case !r.isActive():
					want = group.ENotInGroup
				}
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, groupTypes[gt], r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(gt, k.id, r.typ)
					before := e.state(f.ID)
					checkCode(t, e.svc.QuitGroup(t.Context(), k.actor, f.ID, group.Notify{}), want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					wantOwner := f.Owner
					changes := []idType{{k.id, group.MemberRemoved}}
					if r.typ == group.MemberOwner && gt != group.GroupFree {
						// The owner of a non-free group hands it to the
						// earliest other member: here the manager.
						wantOwner = mgr
						changes = append(changes, idType{mgr, group.MemberOwner})
					}
					wantActive := f.after(changes...)
					if g, _ := e.group(f.ID); g.Owner != wantOwner {
						t.Errorf("owner = %q, want %q", g.Owner, wantOwner)
					}
					e.checkMemberTypes(f.ID, wantActive)
					if m, _ := e.member(f.ID, k.id); m.Type != group.MemberRemoved || !m.UpdatedAt.Equal(e.now()) {
						t.Errorf("actor's row: type %d updated %v, want %d %v", m.Type, m.UpdatedAt, group.MemberRemoved, e.now())
					}
					var evs map[string][]group.Event
					if k.bot {
						evs = events(k.id, e.event(group.EventDelRobot, f.ID, k.id))
					}
					e.checkDelta(before, delta{
						Messages: []group.Message{e.note(f.ID, 0, k.id, group.NotifyQuitGroup, fmt.Sprintf(`{"g":%q,"o":%q,"m":""}`, f.ID, k.id))},
						Events:   evs,
					}, f.ID)
				})
			}
		}
	}
	// The heir is the first other non-removed member, whatever its role.
	t.Run("heir-is-earliest-active", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seedMembers(group.GroupRestricted, robotActor, []idType{
			{gone, group.MemberRemoved}, {robotActor, group.MemberOwner}, {muted, group.MemberSilent}, {mgr, group.MemberManager},
		})
		before := e.state(f.ID)
		checkCode(t, e.svc.QuitGroup(t.Context(), group.Robot(robotActor), f.ID, group.Notify{}), ok)
		if g, _ := e.group(f.ID); g.Owner != muted || !g.UpdatedAt.Equal(e.now()) {
			t.Errorf("owner = %q updated %v, want %q %v", g.Owner, g.UpdatedAt, muted, e.now())
		}
		e.checkMemberTypes(f.ID, []idType{{muted, group.MemberOwner}, {mgr, group.MemberManager}})
		// No transfer notification.
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, robotActor, group.NotifyQuitGroup, fmt.Sprintf(`{"g":%q,"o":%q,"m":""}`, f.ID, robotActor))},
			Events:   events(robotActor, e.event(group.EventDelRobot, f.ID, robotActor)),
		}, f.ID)
	})
	// An owner alone dismisses the group by quitting.
	for gt := group.GroupNormal; gt <= group.GroupRestricted; gt += 2 {
		t.Run("owner-alone/"+groupTypes[gt], func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seedMembers(gt, robotActor, []idType{{robotActor, group.MemberOwner}, {gone, group.MemberRemoved}})
			before := e.state(f.ID)
			checkCode(t, e.svc.QuitGroup(t.Context(), group.Robot(robotActor), f.ID, group.Notify{}), ok)
			if _, found := e.group(f.ID); found {
				t.Errorf("group %s still exists", f.ID)
			}
			e.checkMemberType(f.ID, robotActor, noRow)
			e.checkMemberType(f.ID, gone, noRow)
			e.checkDelta(before, delta{
				Messages: []group.Message{e.note(f.ID, 0, robotActor, group.NotifyQuitGroup, fmt.Sprintf(`{"g":%q,"o":%q,"m":""}`, f.ID, robotActor))},
				Events:   events(robotActor, e.event(group.EventDelRobot, f.ID, robotActor)),
			}, f.ID)
		})
	}
	// The owner of a free group just leaves, even alone.
	t.Run("owner-alone/free", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seedMembers(group.GroupFree, robotActor, []idType{{robotActor, group.MemberOwner}})
		checkCode(t, e.svc.QuitGroup(t.Context(), group.Robot(robotActor), f.ID, group.Notify{}), ok)
		if g, found := e.group(f.ID); !found || g.Owner != robotActor {
			t.Errorf("group found %v owner %q, want it kept with owner %q", found, g.Owner, robotActor)
		}
		e.checkMemberType(f.ID, robotActor, group.MemberRemoved)
	})
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, "", noRow)
		before := e.state(f.ID)
		checkCode(t, e.svc.QuitGroup(t.Context(), group.Admin, f.ID, group.Notify{}), group.EInvalidParam)
		e.noTrace(before, f.ID)
	})
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, e.svc.QuitGroup(t.Context(), group.Robot(robotActor), "missing", group.Notify{}), group.ENotExist)
	})
}

// memberFieldTargets are the columns of the alias and extra matrices: the
// actor itself (memberId empty), the owner, another manager, a member, a
// removed member and an id that never joined.
var memberFieldTargets = []string{"", owner, mgr, mem, gone, nobody}

func TestSetMemberAlias(t *testing.T) {
	// Not the owner: actor and target must be active members (9); a manager
	// may not change a non-manager (248); a plain member may change anyone.
	testMemberField(t, "alias", group.NotifyMemberAlias, map[string]string{
		"owner":    "oooonn",
		"manager":  "orornn",
		"member":   "oooonn",
		"silent":   "oooonn",
		"removed":  "nnnnnn",
		"allowed":  "oooonn",
		"outsider": "nnnnnn",
		"admin":    "pooonn",
	}, func(e *env, a group.Actor, gid, target, v string) error {
		return e.svc.SetMemberAlias(e.t.Context(), a, gid, target, v, group.Notify{})
	}, func(m group.Member) string { return m.Alias })
}

func TestSetMemberExtra(t *testing.T) {
	// As set_alias, but removed rows are not rejected.
	testMemberField(t, "extra", group.NotifyMemberExtra, map[string]string{
		"owner":    "ooooon",
		"manager":  "ororrn",
		"member":   "ooooon",
		"silent":   "ooooon",
		"removed":  "ooooon",
		"allowed":  "ooooon",
		"outsider": "nnnnnn",
		"admin":    "poooon",
	}, func(e *env, a group.Actor, gid, target, v string) error {
		return e.svc.SetMemberExtra(e.t.Context(), a, gid, target, v, group.Notify{})
	}, func(m group.Member) string { return m.Extra })
}

// testMemberField runs the set_alias or set_extra matrix.
func testMemberField(t *testing.T, field string, notify int, matrix map[string]string,
	set func(e *env, a group.Actor, gid, target, v string) error, get func(group.Member) string) {
	e := newEnv(t, group.Config{})
	run := func(name string, actor group.Actor, actorID string, r role, gtype int, target string, want group.Code) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(gtype, actorID, r.typ)
			tid := target
			if tid == "" {
				tid = actorID
			}
			if tid == owner {
				tid = f.Owner
			}
			if target == owner {
				target = f.Owner
			}
			before := e.state(f.ID)
			checkCode(t, set(e, actor, f.ID, target, "v-"+field), want)
			if want != ok {
				e.noTrace(before, f.ID)
				return
			}
			m, _ := e.member(f.ID, tid)
			wantRow := before.Members[f.ID+"/"+tid]
			if got := get(m); got != "v-"+field || m.Type != wantRow.Type || !m.UpdatedAt.Equal(e.now()) {
				t.Errorf("target %s: %s %q type %d updated %v; want %q, type %d, %v", tid, field, got, m.Type, m.UpdatedAt, "v-"+field, wantRow.Type, e.now())
			}
			e.checkDelta(before, delta{
				Messages: []group.Message{e.note(f.ID, 0, actorID, notify, fmt.Sprintf(`{"g":%q,"o":%q,"n":%q,"m":%q}`, f.ID, actorID, "v-"+field, tid))},
			}, f.ID)
		})
	}
	// The rules do not depend on the group type: organization groups too.
	for _, gt := range []int{group.GroupNormal, group.GroupOrganization} {
		for _, k := range kinds {
			for _, r := range roles {
				for i, want := range codes(t, matrix[r.name]) {
					target := memberFieldTargets[i]
					name := fmt.Sprintf("%s/%s/%s/target=%s", k.name, groupTypes[gt], r.name, target)
					if target == "" {
						name = fmt.Sprintf("%s/%s/%s/target=self", k.name, groupTypes[gt], r.name)
					}
					run(name, k.actor, k.id, r, gt, target, want)
				}
			}
		}
	}
	for i, want := range codes(t, matrix["admin"]) {
		target := memberFieldTargets[i]
		if target == "" {
			target = "self"
		}
		run("admin/target="+target, group.Admin, "", role{"outsider", noRow}, group.GroupNormal, memberFieldTargets[i], want)
	}
	t.Run("missing-group", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		checkCode(t, set(e, group.Robot(robotActor), "missing", mem, "v"), group.ENotExist)
	})
}

// roleOp is manager/set, manager/mute or manager/allow.
type roleOp struct {
	name   string
	notify int
	call   func(s *group.Service, e *env, a group.Actor, gid string, ids []string, on bool) error
	// want are the codes per group type (normal, free, restricted, org),
	// columns as roles; robotOrg the robot's in an organization group (a
	// robot owner manages it as the owner of a restricted group).
	want     [4]string
	robotOrg string
	// on and off are the ids each direction changes and their new types.
	on, off []idType
}

var roleOps = []roleOp{
	{
		name: "manager", notify: group.NotifySetManager,
		call: func(s *group.Service, e *env, a group.Actor, gid string, ids []string, on bool) error {
			return s.SetManagers(e.t.Context(), a, gid, ids, on, group.Notify{})
		},
		want:     [4]string{"orrrrrr", "orrrrrr", "orrrrrr", "rrrrrrr"},
		robotOrg: "orrrrrr",
		on:       []idType{{mem, group.MemberManager}},
		off:      []idType{{mgr, group.MemberNormal}},
	},
	{
		name: "mute", notify: group.NotifyMuteMember,
		call: func(s *group.Service, e *env, a group.Actor, gid string, ids []string, on bool) error {
			return s.MuteMembers(e.t.Context(), a, gid, ids, on, group.Notify{})
		},
		want:     [4]string{"oorrrrr", "oorrrrr", "oorrrrr", "rrrrrrr"},
		robotOrg: "orrrrrr",
		on:       []idType{{mem, group.MemberSilent}, {allowed, group.MemberSilent}},
		off:      []idType{{muted, group.MemberNormal}},
	},
	{
		name: "allow", notify: group.NotifyAllowMember,
		call: func(s *group.Service, e *env, a group.Actor, gid string, ids []string, on bool) error {
			return s.AllowMembers(e.t.Context(), a, gid, ids, on, group.Notify{})
		},
		want:     [4]string{"oorrrrr", "oorrrrr", "oorrrrr", "rrrrrrr"},
		robotOrg: "orrrrrr",
		on:       []idType{{mem, group.MemberAllowed}, {muted, group.MemberAllowed}},
		off:      []idType{{allowed, group.MemberNormal}},
	},
}

func TestMemberRoles(t *testing.T) {
	e := newEnv(t, group.Config{})
	// run changes the roles of the op's ids plus an unknown and a removed id,
	// which are ignored but listed in the notification.
	run := func(e *env, op roleOp, a group.Actor, actorID string, f fixture, on bool, want group.Code) {
		t := e.t
		changes := op.off
		n := "0"
		if on {
			changes, n = op.on, "1"
		}
		var ids []string
		for _, c := range changes {
			ids = append(ids, c.ID)
		}
		ids = append(ids, nobody, gone)
		before := e.state(f.ID)
		checkCode(t, op.call(e.svc, e, a, f.ID, ids, on), want)
		if want != ok {
			e.noTrace(before, f.ID)
			return
		}
		e.checkMemberTypes(f.ID, f.after(changes...))
		e.checkMemberType(f.ID, nobody, noRow)
		e.checkMemberType(f.ID, gone, group.MemberRemoved)
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, actorID, op.notify, fmt.Sprintf(`{"g":%q,"o":%q,"n":%q,"ms":%s}`, f.ID, actorID, n, jsonList(ids...)))},
		}, f.ID)
	}
	for _, op := range roleOps {
		for _, k := range kinds {
			for gt := range groupTypes {
				cells := op.want[gt]
				if gt == group.GroupOrganization {
					cells = k.row(cells, op.robotOrg)
				}
				for i, want := range codes(t, cells) {
					r := roles[i]
					for _, on := range []bool{true, false} {
						t.Run(fmt.Sprintf("%s/%s/%s/%s/on=%v", op.name, k.name, groupTypes[gt], r.name, on), func(t *testing.T) {
							t.Parallel()
							e := e.with(t)
							run(e, op, k.actor, k.id, e.seed(gt, k.id, r.typ), on, want)
						})
					}
				}
			}
		}
		for gt := range groupTypes {
			for _, on := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/admin/%s/on=%v", op.name, groupTypes[gt], on), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					run(e, op, group.Admin, "", e.seed(gt, "", noRow), on, ok)
				})
			}
		}
		// The owner in the list → 248, whoever asks.
		for _, tt := range []struct {
			name  string
			actor group.Actor
			id    string
			role  int
		}{
			{"owner", group.Robot(robotActor), robotActor, group.MemberOwner},
			{"manager", group.Robot(robotActor), robotActor, group.MemberManager},
			{"admin", group.Admin, "", noRow},
		} {
			t.Run(fmt.Sprintf("%s/owner-in-list/%s", op.name, tt.name), func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				f := e.seed(group.GroupNormal, tt.id, tt.role)
				before := e.state(f.ID)
				checkCode(t, op.call(e.svc, e, tt.actor, f.ID, []string{mem, f.Owner}, true), group.ENotRight)
				e.noTrace(before, f.ID)
			})
		}
		t.Run(op.name+"/empty-list", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			checkCode(t, op.call(e.svc, e, group.Robot(robotActor), f.ID, nil, true), group.EInvalidParam)
		})
		t.Run(op.name+"/missing-group", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			checkCode(t, op.call(e.svc, e, group.Robot(robotActor), "missing", []string{mem}, true), group.ENotExist)
		})
	}

	// Only the owner mutes a manager; a manager muting one changes nothing
	// but still succeeds and posts the notification.
	t.Run("mute/manager-by-owner", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		checkCode(t, e.svc.MuteMembers(t.Context(), group.Robot(robotActor), f.ID, []string{mgr}, true, group.Notify{}), ok)
		e.checkMemberType(f.ID, mgr, group.MemberSilent)
	})
	t.Run("mute/manager-by-manager", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, robotActor, group.MemberManager)
		before := e.state(f.ID)
		checkCode(t, e.svc.MuteMembers(t.Context(), group.Robot(robotActor), f.ID, []string{mgr}, true, group.Notify{}), ok)
		e.checkMemberType(f.ID, mgr, group.MemberManager)
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, robotActor, group.NotifyMuteMember, fmt.Sprintf(`{"g":%q,"o":%q,"n":"1","ms":%s}`, f.ID, robotActor, jsonList(mgr)))},
		}, f.ID)
	})
}
