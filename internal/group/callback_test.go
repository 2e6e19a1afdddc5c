package group_test

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// A robot with a Wildfire callback hears, through its event log, every
// message and notification posted to a group while it is an active member,
// but its own; robots without a callback, and removed ones, hear nothing.
func TestRobotMessageEvents(t *testing.T) {
	e := newEnv(t, group.Config{})
	for _, b := range []string{botA, botOut} {
		if err := e.svc.SetCallback(t.Context(), b, "http://receiver.example/"+b); err != nil {
			t.Fatal(err)
		}
	}
	f := e.seedMembers(group.GroupRestricted, owner, []idType{
		{owner, group.MemberOwner}, {botA, group.MemberNormal}, {robotActor, group.MemberNormal}, {botOut, group.MemberRemoved}})
	heard := func(sender string, uid int64) group.Event {
		ev := e.event(group.EventRobotMessage, f.ID, sender)
		ev.MessageUID = uid
		return ev
	}

	// A chat message mentioning botA: the callback's event, and the QQ one.
	before := e.state(f.ID)
	p := group.Payload{Type: group.ContentText, Content: "@botA hi", MentionedType: group.MentionSome, MentionedTarget: []string{botA}}
	msg, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: owner, ConvType: group.ConvGroup, Target: f.ID, Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	at := e.event(group.EventAtMessage, f.ID, owner)
	at.MessageUID = msg.UID
	e.checkDelta(before, delta{Messages: []group.Message{{GroupID: f.ID, Sender: owner, Payload: p, CreatedAt: e.now()}},
		Events: events(botA, heard(owner, msg.UID), botA, at)}, f.ID)

	// Its own message: nothing for botA.
	before = e.state(f.ID)
	own := group.Payload{Type: group.ContentText, Content: "mine"}
	if _, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: botA, ConvType: group.ConvGroup, Target: f.ID, Payload: own}); err != nil {
		t.Fatal(err)
	}
	e.checkDelta(before, delta{Messages: []group.Message{{GroupID: f.ID, Sender: botA, Payload: own, CreatedAt: e.now()}}}, f.ID)

	// A notification on two lines: one event per message.
	before = e.state(f.ID)
	if err := e.svc.ModifyGroup(t.Context(), group.AsUser(owner), f.ID, 0, "renamed", group.Notify{Lines: []int{0, 1}}); err != nil {
		t.Fatal(err)
	}
	d := e.since(before, f.ID)
	if len(d.Messages) != 2 || len(d.Events[botA]) != 2 || len(d.Events) != 1 {
		t.Fatalf("rename: messages %+v, events %+v", d.Messages, d.Events)
	}
	for i, m := range d.Messages {
		if ev := d.Events[botA][i]; ev.Type != group.EventRobotMessage || ev.MessageUID != m.UID || ev.OperatorID != owner || m.Payload.Type != 110 {
			t.Errorf("rename event %d: %+v for message %+v", i, ev, m)
		}
	}

	// Kicked: it hears its own kick (notified before the change), then nothing.
	before = e.state(f.ID)
	if err := e.svc.KickMembers(t.Context(), group.AsUser(owner), f.ID, []string{botA}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	d = e.since(before, f.ID)
	if len(d.Messages) != 1 || len(d.Events[botA]) != 2 || d.Events[botA][0].Type != group.EventRobotMessage ||
		d.Events[botA][0].MessageUID != d.Messages[0].UID || d.Events[botA][1].Type != group.EventDelRobot {
		t.Fatalf("kick: messages %+v, events %+v", d.Messages, d.Events)
	}
	before = e.state(f.ID)
	if _, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: owner, ConvType: group.ConvGroup, Target: f.ID, Payload: own}); err != nil {
		t.Fatal(err)
	}
	if d := e.since(before, f.ID); len(d.Events) != 0 {
		t.Fatalf("events after the kick: %+v", d.Events)
	}
}

// With Config.GroupChanges every group change is recorded in the server
// log, in its own transaction, as Wildfire's group callbacks tell it; a
// custom notify_message does not hide it; without the option nothing is.
func TestGroupChanges(t *testing.T) {
	e := newEnv(t, group.Config{GroupChanges: true})
	ctx := t.Context()
	as := group.AsUser(owner)
	custom := group.Notify{Message: &group.Payload{Type: group.ContentText, Content: "custom"}}
	steps := []struct {
		name string
		do   func(gid string) error
		want group.Event // Type, OperatorID, Data
	}{
		{"member/add", func(g string) error { return e.svc.AddMembers(ctx, as, g, []group.Member{{UserID: newbie}}, custom) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":0,"memberIds":["new1"]}`}},
		{"manager/set", func(g string) error { return e.svc.SetManagers(ctx, as, g, []string{mem}, true, group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":3,"memberIds":["mem"],"value":"1"}`}},
		{"manager/mute", func(g string) error { return e.svc.MuteMembers(ctx, as, g, []string{newbie}, true, group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":3,"memberIds":["new1"],"value":"3"}`}},
		{"manager/mute off", func(g string) error { return e.svc.MuteMembers(ctx, as, g, []string{newbie}, false, group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":3,"memberIds":["new1"],"value":"0"}`}},
		{"set_alias", func(g string) error { return e.svc.SetMemberAlias(ctx, as, g, mem, "Mem", group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":4,"memberIds":["mem"],"value":"Mem"}`}},
		{"set_extra", func(g string) error { return e.svc.SetMemberExtra(ctx, as, g, mem, "x", group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":5,"memberIds":["mem"],"value":"x"}`}},
		{"modify name", func(g string) error {
			return e.svc.ModifyGroup(ctx, as, g, group.ModifyName, "renamed", group.Notify{})
		},
			group.Event{Type: group.EventGroupInfo, OperatorID: owner, Data: `{"type":1,"value":"renamed"}`}},
		{"modify mute", func(g string) error { return e.svc.ModifyGroup(ctx, as, g, group.ModifyMute, "1", group.Notify{}) },
			group.Event{Type: group.EventGroupInfo, OperatorID: owner, Data: `{"type":3,"value":"1"}`}},
		{"modify unmute", func(g string) error { return e.svc.ModifyGroup(ctx, as, g, group.ModifyMute, "0", group.Notify{}) },
			group.Event{Type: group.EventGroupInfo, OperatorID: owner, Data: `{"type":4,"value":"0"}`}},
		{"modify max members (no notification)", func(g string) error {
			return e.svc.ModifyGroup(ctx, group.Admin, g, group.ModifyMaxMemberCount, "50", group.Notify{})
		},
			group.Event{Type: group.EventGroupInfo, Data: `{"type":1,"value":"50"}`}},
		{"member/quit", func(g string) error { return e.svc.QuitGroup(ctx, group.AsUser(newbie), g, group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: newbie, Data: `{"type":1,"memberIds":["new1"]}`}},
		{"member/del", func(g string) error { return e.svc.KickMembers(ctx, as, g, []string{mem}, group.Notify{}) },
			group.Event{Type: group.EventGroupMember, OperatorID: owner, Data: `{"type":2,"memberIds":["mem"]}`}},
		{"transfer", func(g string) error { return e.svc.TransferGroup(ctx, as, g, mgr, group.Notify{}) },
			group.Event{Type: group.EventGroupInfo, OperatorID: owner, Data: `{"type":2,"value":"mgr"}`}},
		{"del", func(g string) error { return e.svc.DismissGroup(ctx, group.AsUser(mgr), g, group.Notify{}) },
			group.Event{Type: group.EventGroupInfo, OperatorID: mgr, Data: `{"type":5}`}},
	}
	gid, err := e.svc.CreateGroup(ctx, as, group.CreateGroupInput{Group: group.Group{Name: "g", Type: group.GroupNormal},
		Members: []group.Member{{UserID: mgr}, {UserID: mem}}})
	if err != nil {
		t.Fatal(err)
	}
	log := func() []group.Event {
		var evs []group.Event
		if err := e.store.View(ctx, func(r group.Reader) (err error) {
			evs, err = r.Events(group.ServerLog, 0, 100)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	if evs := log(); len(evs) != 1 || evs[0].Type != group.EventGroupInfo || evs[0].Data != `{"type":0,"value":"g"}` || evs[0].GroupID != gid {
		t.Fatalf("after create: %+v", evs)
	}
	for i, st := range steps {
		if err := st.do(gid); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		evs := log()
		if len(evs) != i+2 {
			t.Fatalf("%s: the server log has %d events, want %d", st.name, len(evs), i+2)
		}
		got := evs[i+1]
		if got.Type != st.want.Type || got.OperatorID != st.want.OperatorID || got.Data != st.want.Data || got.GroupID != gid {
			t.Errorf("%s: recorded %+v, want %+v", st.name, got, st.want)
		}
	}

	// A refused change records nothing; without the option nothing is recorded.
	if err := e.svc.ModifyGroup(ctx, group.AsUser(nobody), gid, group.ModifyName, "x", group.Notify{}); err == nil {
		t.Fatal("a stranger renamed a dismissed group")
	}
	if n := len(log()); n != len(steps)+1 {
		t.Errorf("a refused change was recorded: %d events", n)
	}
	off := newEnv(t, group.Config{})
	if _, err := off.svc.CreateGroup(ctx, as, group.CreateGroupInput{Group: group.Group{Name: "g"}}); err != nil {
		t.Fatal(err)
	}
	var last int64
	off.store.View(ctx, func(r group.Reader) (err error) { last, err = r.LastEventSeq(group.ServerLog); return err })
	if last != 0 {
		t.Errorf("without GroupChanges the server log has %d events", last)
	}
}
