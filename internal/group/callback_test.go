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
