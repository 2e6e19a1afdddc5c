package group_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qun-chat/qun/internal/group"
)

// Message-send restrictions (reference/wildfire-robot-api.md §3) and the
// GROUP_AT_MESSAGE_CREATE event (DESIGN.md, Events).

func TestSendMessage(t *testing.T) {
	e := newEnv(t, group.Config{})
	// A non-removed member speaks; a silent member never (248); in a muted
	// group only the owner, managers and allowed members (241).
	// Columns: owner, manager, member, silent, removed, allowed, outsider.
	matrix := []struct {
		name string
		opts []groupOpt
		want string
	}{
		{"unmuted", nil, "ooornon"},
		{"muted", []groupOpt{withMute()}, "oomrnon"},
	}
	for _, k := range kinds {
		for gt := range groupTypes {
			for _, row := range matrix {
				for i, want := range codes(t, row.want) {
					r := roles[i]
					t.Run(fmt.Sprintf("%s/%s/%s/%s", k.name, groupTypes[gt], row.name, r.name), func(t *testing.T) {
						t.Parallel()
						e := e.with(t)
						f := e.seed(gt, k.id, r.typ, row.opts...)
						// Mentions the sender, a bot member and a bot outside the group.
						p := group.Payload{Type: group.ContentText, Content: "hi", MentionedType: group.MentionSome, MentionedTarget: []string{robotActor, botA, botOut}}
						before := e.state(f.ID)
						msg, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: k.id, ConvType: group.ConvGroup, Target: f.ID, Line: 1, Payload: p})
						checkCode(t, err, want)
						if want != ok {
							e.noTrace(before, f.ID)
							return
						}
						wantMsg := group.Message{GroupID: f.ID, Line: 1, Sender: k.id, Payload: p, CreatedAt: e.now()}
						// The bot member is told; never the sender, never a non-member.
						at := e.event(group.EventAtMessage, f.ID, k.id)
						at.MessageUID = msg.UID
						e.checkDelta(before, delta{Messages: []group.Message{wantMsg}, Events: events(botA, at)}, f.ID)
						if msg.UID == 0 || msg.Seq == 0 {
							t.Errorf("returned message has uid %d seq %d", msg.UID, msg.Seq)
						}
					})
				}
			}
		}
	}

	// Mentions: every bot member a payload mentions gets one event, but the
	// sender and bots that left.
	mentions := []struct {
		name    string
		sender  string
		mention int
		targets []string
		want    []string
	}{
		{"all/by-user", owner, group.MentionAll, nil, []string{robotActor, botA}},
		{"all/by-robot", robotActor, group.MentionAll, nil, []string{botA}},
		{"some", owner, group.MentionSome, []string{robotActor, mem, botOut}, []string{robotActor}},
		{"some/duplicate-target", owner, group.MentionSome, []string{botA, botA}, []string{botA}},
		{"none-with-targets", owner, group.MentionNone, []string{robotActor, botA}, nil},
		{"some/removed-bot", owner, group.MentionSome, []string{botOut}, nil},
	}
	for _, tt := range mentions {
		t.Run("mention/"+tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seedMembers(group.GroupNormal, owner, []idType{
				{owner, group.MemberOwner}, {robotActor, group.MemberNormal}, {botA, group.MemberManager}, {botOut, group.MemberRemoved}, {mem, group.MemberNormal},
			})
			p := group.Payload{Type: group.ContentText, Content: "@", MentionedType: tt.mention, MentionedTarget: tt.targets}
			before := e.state(f.ID)
			msg, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: tt.sender, ConvType: group.ConvGroup, Target: f.ID, Payload: p})
			checkCode(t, err, ok)
			evs := map[string][]group.Event{}
			for _, b := range tt.want {
				ev := e.event(group.EventAtMessage, f.ID, tt.sender)
				ev.BotID, ev.MessageUID = b, msg.UID
				evs[b] = []group.Event{ev}
			}
			e.checkDelta(before, delta{
				Messages: []group.Message{{GroupID: f.ID, Line: 0, Sender: tt.sender, Payload: p, CreatedAt: e.now()}},
				Events:   evs,
			}, f.ID)
		})
	}

	// Robots and users may not send recall, delete or the notifications
	// 100–199 (251); the Admin API's system sender may.
	contentTypes := []struct {
		typ    int
		system bool
		want   group.Code
	}{
		{0, false, group.EInvalidParam},
		{-1, true, group.EInvalidParam},
		{group.ContentText, false, ok},
		{79, false, ok},
		{group.ContentRecall, false, group.EInvalidParam},
		{group.ContentDelete, false, group.EInvalidParam},
		{99, false, ok},
		{100, false, group.EInvalidParam},
		{group.NotifyCreateGroup, false, group.EInvalidParam},
		{199, false, group.EInvalidParam},
		{200, false, ok},
		{group.ContentRecall, true, ok},
		{group.NotifyCreateGroup, true, ok},
		{199, true, ok},
	}
	for _, tt := range contentTypes {
		t.Run(fmt.Sprintf("content-type=%d/system=%v", tt.typ, tt.system), func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			before := e.state(f.ID)
			_, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: f.ID, Payload: group.Payload{Type: tt.typ}, System: tt.system})
			checkCode(t, err, tt.want)
			if tt.want != ok {
				e.noTrace(before, f.ID)
			}
		})
	}
	// A system sender is still held to membership.
	t.Run("system/outsider", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, "", noRow)
		_, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: nobody, ConvType: group.ConvGroup, Target: f.ID, Payload: group.Payload{Type: group.ContentText}, System: true})
		checkCode(t, err, group.ENotInGroup)
	})

	// conv.type must be 0..6 and target non-empty (251); only groups are served.
	requests := []struct {
		name string
		in   group.SendInput
		want group.Code
	}{
		{"conv=single", group.SendInput{ConvType: group.ConvSingle}, group.ENotImplement},
		{"conv=chatroom", group.SendInput{ConvType: group.ConvChatroom}, group.ENotImplement},
		{"conv=channel", group.SendInput{ConvType: group.ConvChannel}, group.ENotImplement},
		{"conv=6", group.SendInput{ConvType: 6}, group.ENotImplement},
		{"conv=7", group.SendInput{ConvType: 7}, group.EInvalidParam},
		{"conv=-1", group.SendInput{ConvType: -1}, group.EInvalidParam},
		{"empty-target", group.SendInput{ConvType: group.ConvGroup, Target: "-"}, group.EInvalidParam},
		{"empty-sender", group.SendInput{ConvType: group.ConvGroup, Sender: "-"}, group.EInvalidParam},
		{"line=-1", group.SendInput{ConvType: group.ConvGroup, Line: -1}, group.EInvalidParam},
		{"line=256", group.SendInput{ConvType: group.ConvGroup, Line: group.MaxLine + 1}, group.EInvalidParam},
		{"line=255", group.SendInput{ConvType: group.ConvGroup, Line: group.MaxLine}, ok},
		{"missing-group", group.SendInput{ConvType: group.ConvGroup, Target: "missing"}, group.ENotExist},
	}
	for _, tt := range requests {
		t.Run("request/"+tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			in := tt.in
			in.Payload = group.Payload{Type: group.ContentText, Content: "x"}
			switch in.Target {
			case "":
				in.Target = f.ID
			case "-":
				in.Target = ""
			}
			switch in.Sender {
			case "":
				in.Sender = robotActor
			case "-":
				in.Sender = ""
			}
			before := e.state(f.ID)
			_, err := e.svc.SendMessage(t.Context(), in)
			checkCode(t, err, tt.want)
			if tt.want != ok {
				e.noTrace(before, f.ID)
			}
		})
	}
}

// The timeline reads back what was appended, in order, page by page.
func TestTimeline(t *testing.T) {
	e := newEnv(t, group.Config{})
	f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
	var want []group.Message
	for i := range 5 {
		m, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: f.ID, Payload: group.Payload{Type: group.ContentText, Content: fmt.Sprint(i)}})
		checkCode(t, err, ok)
		want = append(want, m)
	}
	var got []group.Message
	var after int64
	for {
		page, next, err := e.svc.Timeline(t.Context(), f.ID, 0, after, 2)
		checkCode(t, err, ok)
		got = append(got, page...)
		if next == 0 {
			break
		}
		after = next
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name        string
		gid         string
		line, limit int
		after       int64
		want        group.Code
	}{
		{"limit=501", f.ID, 0, group.MaxTimelinePage + 1, 0, group.EInvalidParam},
		{"limit=-1", f.ID, 0, -1, 0, group.EInvalidParam},
		{"line=256", f.ID, group.MaxLine + 1, 0, 0, group.EInvalidParam},
		{"after=-1", f.ID, 0, 0, -1, group.EInvalidParam},
		{"missing-group", "missing", 0, 0, 0, group.ENotExist},
		{"empty-line", f.ID, 3, 0, 0, ok},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.Timeline(t.Context(), tt.gid, tt.line, tt.after, tt.limit)
			checkCode(t, err, tt.want)
		})
	}
}

func TestTimelineBefore(t *testing.T) {
	e := newEnv(t, group.Config{})
	f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
	all, _, err := e.svc.Timeline(t.Context(), f.ID, 0, 0, group.MaxTimelinePage)
	checkCode(t, err, ok)
	for i := range 5 {
		m, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: f.ID, Payload: group.Payload{Type: group.ContentText, Content: fmt.Sprint(i)}})
		checkCode(t, err, ok)
		all = append(all, m)
	}
	var got []group.Message
	var before int64
	for {
		page, next, err := e.svc.TimelineBefore(t.Context(), f.ID, 0, before, 2)
		checkCode(t, err, ok)
		got = append(got, page...)
		if next == 0 {
			break
		}
		before = next
	}
	var want []group.Message
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i])
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("timeline from its end (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name        string
		line, limit int
		before      int64
		want        group.Code
	}{
		{"limit=501", 0, group.MaxTimelinePage + 1, 0, group.EInvalidParam},
		{"line=256", group.MaxLine + 1, 0, 0, group.EInvalidParam},
		{"before=-1", 0, 0, -1, group.EInvalidParam},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.TimelineBefore(t.Context(), f.ID, tt.line, tt.before, tt.limit)
			checkCode(t, err, tt.want)
		})
	}
}

func TestGroupsAndBotsPaged(t *testing.T) {
	e := newEnv(t, group.Config{})
	var wantBots []string
	for after := ""; ; {
		page, next, err := e.svc.Bots(t.Context(), after, 1)
		checkCode(t, err, ok)
		for _, b := range page {
			wantBots = append(wantBots, b.UserID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(wantBots) == 0 {
		t.Fatal("Bots listed none of the env's robots")
	}
	for i := 1; i < len(wantBots); i++ {
		if wantBots[i] <= wantBots[i-1] {
			t.Errorf("bots out of key order: %q after %q", wantBots[i], wantBots[i-1])
		}
	}
	f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
	gs, next, err := e.svc.Groups(t.Context(), "", group.MaxGroupsPage)
	checkCode(t, err, ok)
	if len(gs) != 1 || gs[0].ID != f.ID || next != "" {
		t.Errorf("Groups = %v, next %q; want only %s", gs, next, f.ID)
	}
	for _, limit := range []int{0, group.MaxGroupsPage + 1} {
		_, _, err := e.svc.Groups(t.Context(), "", limit)
		checkCode(t, err, group.EInvalidParam)
		_, _, err = e.svc.Bots(t.Context(), "", limit)
		checkCode(t, err, group.EInvalidParam)
	}
}

// SearchGroups pages by key through the groups whose id or name starts with
// a prefix, case-sensitively; bad input is EInvalidParam.
func TestSearchGroups(t *testing.T) {
	e := newEnv(t, group.Config{})
	for _, g := range []group.Group{{ID: "t1", Name: "Team"}, {ID: "t2", Name: "Team"}, {ID: "t3", Name: "Teammates"}, {ID: "x", Name: "team"}} {
		if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: g.ID, Name: g.Name, Owner: owner}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var pages int
	for after := (group.GroupKey{}); ; pages++ {
		gs, next, err := e.svc.SearchGroups(t.Context(), group.ByGroupName, "Team", after, 2)
		checkCode(t, err, ok)
		for _, g := range gs {
			got = append(got, g.ID)
		}
		if next == (group.GroupKey{}) {
			break
		}
		if next.ID != gs[len(gs)-1].ID || next.Name != gs[len(gs)-1].Name {
			t.Fatalf("next %+v is not the page's last group %+v", next, gs[len(gs)-1])
		}
		after = next
	}
	if strings.Join(got, " ") != "t1 t2 t3" || pages != 1 {
		t.Errorf("search by name Team: %v in %d pages after the first; want t1 t2 t3 in 1", got, pages)
	}
	gs, next, err := e.svc.SearchGroups(t.Context(), group.ByGroupID, "t", group.GroupKey{ID: "t1"}, 10)
	checkCode(t, err, ok)
	if len(gs) != 2 || gs[0].ID != "t2" || gs[1].ID != "t3" || next != (group.GroupKey{}) {
		t.Errorf("search by id t after t1: %v next %+v; want t2 t3", gs, next)
	}
	for _, bad := range []struct {
		by     group.GroupField
		prefix string
		limit  int
	}{{group.ByGroupID, "t", 0}, {group.ByGroupID, "t", group.MaxGroupsPage + 1}, {7, "t", 10}, {group.ByGroupName, "a\x00", 10}, {group.ByGroupName, "\xff", 10}} {
		_, _, err := e.svc.SearchGroups(t.Context(), bad.by, bad.prefix, group.GroupKey{}, bad.limit)
		checkCode(t, err, group.EInvalidParam)
	}
}
