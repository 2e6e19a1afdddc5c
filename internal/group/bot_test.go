package group_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// The bot rules of DESIGN.md: proactive messages turned off and on by the
// owner or a manager, the ice-breaker, and passive and proactive messages
// (reference/qq-bot-api.md §6.7).

func TestSetProactive(t *testing.T) {
	e := newEnv(t, group.Config{})
	// Only the owner or a manager; columns as roles.
	const want = "oorrrrr"
	for _, k := range kinds {
		for gt := range groupTypes {
			for i, want := range codes(t, want) {
				r := roles[i]
				t.Run(fmt.Sprintf("%s/%s/%s", k.name, groupTypes[gt], r.name), func(t *testing.T) {
					t.Parallel()
					e := e.with(t)
					f := e.seed(gt, k.id, r.typ)
					before := e.state(f.ID)
					checkCode(t, e.svc.SetProactive(t.Context(), k.actor, f.ID, botA, false), want)
					if want != ok {
						e.noTrace(before, f.ID)
						return
					}
					if e.state(f.ID).Proactive[f.ID+"/"+botA] {
						t.Errorf("proactive messages of %s still on", botA)
					}
					e.checkDelta(before, delta{Events: events(botA, e.event(group.EventMsgReject, f.ID, k.id))}, f.ID)
				})
			}
		}
	}
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupOrganization, "", noRow)
		before := e.state(f.ID)
		checkCode(t, e.svc.SetProactive(t.Context(), group.Admin, f.ID, botA, false), ok)
		e.checkDelta(before, delta{Events: events(botA, e.event(group.EventMsgReject, f.ID, ""))}, f.ID)
	})

	// Setting the current value again changes nothing and emits nothing.
	t.Run("same-value", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberManager)
		steps := []struct {
			allow bool
			event group.EventType // "" for none
		}{
			{true, ""}, // on by default
			{false, group.EventMsgReject},
			{false, ""},
			{true, group.EventMsgAccept},
			{true, ""},
		}
		for i, s := range steps {
			before := e.state(f.ID)
			checkCode(t, e.svc.SetProactive(t.Context(), group.AsUser(userActor), f.ID, botA, s.allow), ok)
			if s.event == "" {
				e.noTrace(before, f.ID)
				continue
			}
			e.checkDelta(before, delta{Events: events(botA, e.event(s.event, f.ID, userActor))}, f.ID)
			if got := e.state(f.ID).Proactive[f.ID+"/"+botA]; got != s.allow {
				t.Errorf("step %d: proactive = %v, want %v", i, got, s.allow)
			}
		}
	})

	refused := []struct {
		name string
		gid  string
		bot  string
		want group.Code
	}{
		{"bot-not-member", "", botOut, group.ENotInGroup},
		{"bot-removed", "", botIce, group.ENotInGroup},
		{"not-a-bot", "", mem, group.ENotExist},
		{"missing-group", "missing", botA, group.ENotExist},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			checkCode(t, e.svc.AddMembers(t.Context(), group.Admin, f.ID, []group.Member{{UserID: botIce}}, group.Notify{}), ok)
			checkCode(t, e.svc.KickMembers(t.Context(), group.Admin, f.ID, []string{botIce}, group.Notify{}), ok)
			gid := f.ID
			if tt.gid != "" {
				gid = tt.gid
			}
			before := e.state(f.ID)
			checkCode(t, e.svc.SetProactive(t.Context(), group.Robot(robotActor), gid, tt.bot, false), tt.want)
			e.noTrace(before, f.ID)
		})
	}
}

func TestIceBreaker(t *testing.T) {
	e := newEnv(t, group.Config{})
	settings := []struct {
		name string
		bot  string
		ib   group.IceBreaker
		want group.Code
	}{
		{"enabled-without-type", botOut, group.IceBreaker{Enabled: true}, group.EInvalidParam},
		{"enabled-notification-type", botOut, group.IceBreaker{Enabled: true, Payload: group.Payload{Type: group.NotifyAddMember}}, group.EInvalidParam},
		{"enabled-recall-type", botOut, group.IceBreaker{Enabled: true, Payload: group.Payload{Type: group.ContentRecall}}, group.EInvalidParam},
		{"disabled-without-type", botOut, group.IceBreaker{}, ok},
		{"unknown-robot", mem, group.IceBreaker{Enabled: true, Payload: iceBreaker}, group.ENotExist},
	}
	for _, tt := range settings {
		t.Run("set/"+tt.name, func(t *testing.T) {
			checkCode(t, e.with(t).svc.SetIceBreaker(t.Context(), tt.bot, tt.ib), tt.want)
		})
	}

	// Posted as the bot each time it joins, after the join notification; it
	// is not a proactive message.
	t.Run("posted-on-every-join", func(t *testing.T) {
		e := e.with(t)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		for i := range 2 {
			before := e.state(f.ID)
			checkCode(t, e.svc.AddMembers(t.Context(), group.AsUser(userActor), f.ID, []group.Member{{UserID: botIce}}, group.Notify{}), ok)
			e.checkDelta(before, delta{
				Messages: []group.Message{
					e.note(f.ID, 0, userActor, group.NotifyAddMember, fmt.Sprintf(`{"g":%q,"o":%q,"ms":["botIce"]}`, f.ID, userActor)),
					e.iceMessage(f.ID),
				},
				Events: events(botIce, e.event(group.EventAddRobot, f.ID, userActor)),
			}, f.ID)
			if n := e.state(f.ID).Sent[f.ID+"/"+botIce]; n != 0 {
				t.Errorf("join %d: %d proactive messages counted, want 0", i, n)
			}
			checkCode(t, e.svc.KickMembers(t.Context(), group.AsUser(userActor), f.ID, []string{botIce}, group.Notify{}), ok)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		e := e.with(t)
		checkCode(t, e.svc.SetIceBreaker(t.Context(), botOut, group.IceBreaker{Enabled: false, Payload: iceBreaker}), ok)
		f := e.seed(group.GroupNormal, userActor, group.MemberOwner)
		before := e.state(f.ID)
		checkCode(t, e.svc.AddMembers(t.Context(), group.AsUser(userActor), f.ID, []group.Member{{UserID: botOut}}, group.Notify{}), ok)
		e.checkDelta(before, delta{
			Messages: []group.Message{e.note(f.ID, 0, userActor, group.NotifyAddMember, fmt.Sprintf(`{"g":%q,"o":%q,"ms":["botOut"]}`, f.ID, userActor))},
			Events:   events(botOut, e.event(group.EventAddRobot, f.ID, userActor)),
		}, f.ID)
	})
}

// botSend sends a text as robotActor and checks the outcome: a refusal
// leaves no trace; a success appends exactly the bot's message on line 0,
// emits no event, and counts against the quota only when proactive.
func (e *env) botSend(gid string, replyMsg, replyEvent int64, seq int, want group.Code) {
	e.t.Helper()
	in := group.BotSendInput{
		BotID: robotActor, GroupID: gid, Payload: group.Payload{Type: group.ContentText, Content: "pong"},
		ReplyToMessage: replyMsg, ReplyToEvent: replyEvent, MsgSeq: seq,
	}
	before := e.state(gid)
	msg, err := e.svc.BotSend(e.t.Context(), in)
	checkCode(e.t, err, want)
	if want != ok {
		e.noTrace(before, gid)
		return
	}
	e.checkDelta(before, delta{Messages: []group.Message{{GroupID: gid, Line: 0, Sender: robotActor, Payload: in.Payload, CreatedAt: e.now()}}}, gid)
	if msg.UID == 0 {
		e.t.Errorf("returned message has no uid")
	}
	wantSent := before.Sent[gid+"/"+robotActor]
	if replyMsg == 0 && replyEvent == 0 {
		wantSent++
	}
	if got := e.state(gid).Sent[gid+"/"+robotActor]; got != wantSent {
		e.t.Errorf("proactive messages counted: %d, want %d", got, wantSent)
	}
}

// mention posts a message from owner into gid mentioning targets (all when
// targets is nil) and returns its uid.
func (e *env) mention(gid string, mentionType int, targets ...string) int64 {
	e.t.Helper()
	m, err := e.svc.SendMessage(e.t.Context(), group.SendInput{
		Sender: owner, ConvType: group.ConvGroup, Target: gid,
		Payload: group.Payload{Type: group.ContentText, Content: "ping", MentionedType: mentionType, MentionedTarget: targets},
	})
	if err != nil {
		e.t.Fatalf("send mentioning message: %v", err)
	}
	return m.UID
}

// lastEvent returns the seq of bot's last event, which must be of type typ.
func (e *env) lastEvent(bot string, typ group.EventType) int64 {
	e.t.Helper()
	var ev group.Event
	err := e.store.View(e.t.Context(), func(r group.Reader) error {
		seq, err := r.LastEventSeq(bot)
		if err != nil {
			return err
		}
		ev, err = r.Event(bot, seq)
		return err
	})
	if err != nil {
		e.t.Fatalf("last event of %s: %v", bot, err)
	}
	if ev.Type != typ {
		e.t.Fatalf("last event of %s is %s, want %s", bot, ev.Type, typ)
	}
	return ev.Seq
}

func TestBotSend(t *testing.T) {
	const (
		window  = 5 * time.Minute
		replies = 2
		quota   = 2
		period  = 24 * time.Hour
	)
	e := newEnv(t, group.Config{PassiveWindow: window, PassiveReplies: replies, ProactiveQuota: quota, ProactivePeriod: period})
	// member seeds a normal group with robotActor as a normal member.
	member := func(e *env, opts ...groupOpt) fixture {
		return e.seed(group.GroupNormal, robotActor, group.MemberNormal, opts...)
	}
	// joined seeds a group and adds robotActor through member/add, so that
	// it has a GROUP_ADD_ROBOT event; it returns the event's seq.
	joined := func(e *env) (fixture, int64) {
		f := e.seed(group.GroupNormal, "", noRow)
		if err := e.svc.AddMembers(e.t.Context(), group.AsUser(owner), f.ID, []group.Member{{UserID: robotActor}}, group.Notify{}); err != nil {
			e.t.Fatalf("add the bot: %v", err)
		}
		return f, e.lastEvent(robotActor, group.EventAddRobot)
	}
	tests := []struct {
		name string
		run  func(e *env)
	}{
		// Who may speak: the rules of message/send.
		{"outsider", func(e *env) { e.botSend(e.seed(group.GroupNormal, robotActor, noRow).ID, 0, 0, 0, group.ENotInGroup) }},
		{"removed", func(e *env) {
			e.botSend(e.seed(group.GroupNormal, robotActor, group.MemberRemoved).ID, 0, 0, 0, group.ENotInGroup)
		}},
		{"silent", func(e *env) {
			e.botSend(e.seed(group.GroupNormal, robotActor, group.MemberSilent).ID, 0, 0, 0, group.ENotRight)
		}},
		{"muted-group/member", func(e *env) { e.botSend(member(e, withMute()).ID, 0, 0, 0, group.EGroupMuted) }},
		{"muted-group/manager", func(e *env) {
			e.botSend(e.seed(group.GroupNormal, robotActor, group.MemberManager, withMute()).ID, 0, 0, 0, ok)
		}},
		{"muted-group/allowed", func(e *env) {
			e.botSend(e.seed(group.GroupNormal, robotActor, group.MemberAllowed, withMute()).ID, 0, 0, 0, ok)
		}},
		{"missing-group", func(e *env) { e.botSend("missing", 0, 0, 0, group.ENotExist) }},
		{"content-types", func(e *env) {
			f := member(e)
			for _, typ := range []int{0, group.ContentRecall, group.ContentDelete, 100, group.NotifyCreateGroup, 199} {
				before := e.state(f.ID)
				_, err := e.svc.BotSend(e.t.Context(), group.BotSendInput{BotID: robotActor, GroupID: f.ID, Payload: group.Payload{Type: typ}})
				checkCode(e.t, err, group.EInvalidParam)
				e.noTrace(before, f.ID)
			}
		}},

		// Proactive messages: refused while turned off, counted against the quota per group.
		{"proactive/quota", func(e *env) {
			f, other := member(e), member(e)
			for range quota {
				e.botSend(f.ID, 0, 0, 0, ok)
			}
			e.botSend(f.ID, 0, 0, 0, group.EOverQuota)
			e.botSend(other.ID, 0, 0, 0, ok) // the quota is per group
			e.clk.Advance(period + time.Hour)
			e.botSend(f.ID, 0, 0, 0, ok)
		}},
		{"proactive/off", func(e *env) {
			f := member(e)
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(owner), f.ID, robotActor, false), ok)
			e.botSend(f.ID, 0, 0, 0, group.ERejected)
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(mgr), f.ID, robotActor, true), ok)
			e.botSend(f.ID, 0, 0, 0, ok)
		}},

		// Passive replies to a message that mentions the bot.
		{"reply/mention-some", func(e *env) {
			f := member(e)
			e.botSend(f.ID, e.mention(f.ID, group.MentionSome, mem, robotActor), 0, 1, ok)
		}},
		{"reply/mention-all", func(e *env) {
			f := member(e)
			e.botSend(f.ID, e.mention(f.ID, group.MentionAll), 0, 1, ok)
		}},
		{"reply/not-mentioned", func(e *env) {
			f := member(e)
			e.botSend(f.ID, e.mention(f.ID, group.MentionSome, botA), 0, 1, group.ENotExist)
			e.botSend(f.ID, e.mention(f.ID, group.MentionNone, robotActor), 0, 1, group.ENotExist)
		}},
		{"reply/other-group", func(e *env) {
			f, other := member(e), member(e)
			e.botSend(f.ID, e.mention(other.ID, group.MentionAll), 0, 1, group.ENotExist)
		}},
		{"reply/unknown-message", func(e *env) { e.botSend(member(e).ID, 1<<40, 0, 1, group.ENotExist) }},
		{"reply/at-most-replies", func(e *env) {
			f := member(e)
			uid := e.mention(f.ID, group.MentionAll)
			for seq := 1; seq <= replies; seq++ {
				e.botSend(f.ID, uid, 0, seq, ok)
			}
			e.botSend(f.ID, uid, 0, replies+1, group.EExpired)
		}},
		{"reply/duplicate-msg-seq", func(e *env) {
			f := member(e)
			uid, uid2 := e.mention(f.ID, group.MentionAll), e.mention(f.ID, group.MentionAll)
			e.botSend(f.ID, uid, 0, 1, ok)
			e.botSend(f.ID, uid, 0, 1, group.EDuplicate)
			e.botSend(f.ID, uid2, 0, 1, ok) // the pair is (msg_id, msg_seq)
		}},
		{"reply/window", func(e *env) {
			f := member(e)
			uid, uid2 := e.mention(f.ID, group.MentionAll), e.mention(f.ID, group.MentionAll)
			e.clk.Advance(window)
			e.botSend(f.ID, uid, 0, 1, ok)
			e.clk.Advance(time.Millisecond)
			e.botSend(f.ID, uid2, 0, 1, group.EExpired)
		}},
		// Passive replies pass where proactive messages are refused.
		{"reply/while-off-and-over-quota", func(e *env) {
			f := member(e)
			for range quota {
				e.botSend(f.ID, 0, 0, 0, ok)
			}
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(owner), f.ID, robotActor, false), ok)
			e.botSend(f.ID, e.mention(f.ID, group.MentionAll), 0, 1, ok)
		}},

		// Passive messages answering an event: GROUP_ADD_ROBOT or GROUP_MSG_RECEIVE only.
		{"event/add-robot", func(e *env) {
			f, seq := joined(e)
			for s := 1; s <= replies; s++ {
				e.botSend(f.ID, 0, seq, s, ok)
			}
			e.botSend(f.ID, 0, seq, replies+1, group.EExpired)
		}},
		{"event/msg-receive", func(e *env) {
			f := member(e)
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(owner), f.ID, robotActor, false), ok)
			reject := e.lastEvent(robotActor, group.EventMsgReject)
			e.botSend(f.ID, 0, reject, 1, group.ENotExist)
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(owner), f.ID, robotActor, true), ok)
			e.botSend(f.ID, 0, e.lastEvent(robotActor, group.EventMsgAccept), 1, ok)
		}},
		{"event/at-message", func(e *env) {
			f := member(e)
			e.mention(f.ID, group.MentionAll)
			e.botSend(f.ID, 0, e.lastEvent(robotActor, group.EventAtMessage), 1, group.ENotExist)
		}},
		{"event/other-group", func(e *env) {
			_, seq := joined(e)
			e.botSend(member(e).ID, 0, seq, 1, group.ENotExist)
		}},
		{"event/unknown", func(e *env) { e.botSend(member(e).ID, 0, 1<<40, 1, group.ENotExist) }},
		{"event/duplicate-msg-seq", func(e *env) {
			f, seq := joined(e)
			e.botSend(f.ID, 0, seq, 7, ok)
			e.botSend(f.ID, 0, seq, 7, group.EDuplicate)
		}},
		{"event/window", func(e *env) {
			f, seq := joined(e)
			e.clk.Advance(window + time.Millisecond)
			e.botSend(f.ID, 0, seq, 1, group.EExpired)
		}},
		{"event/while-off", func(e *env) {
			f, seq := joined(e)
			checkCode(e.t, e.svc.SetProactive(e.t.Context(), group.AsUser(owner), f.ID, robotActor, false), ok)
			e.botSend(f.ID, 0, seq, 1, ok)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(e.with(t)) })
	}
}

// A negative quota means unlimited proactive messages.
func TestBotSendUnlimited(t *testing.T) {
	e := newEnv(t, group.Config{ProactiveQuota: -1})
	f := e.seed(group.GroupNormal, robotActor, group.MemberNormal)
	for range group.DefaultProactiveQuota + 2 {
		e.botSend(f.ID, 0, 0, 0, ok)
	}
}
