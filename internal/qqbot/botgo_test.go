package qqbot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/constant"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/event"
	"github.com/tencent-connect/botgo/sessions/local"
	"github.com/tencent-connect/botgo/token"

	"github.com/qun-chat/qun/internal/group"
)

// botgoLogger silences botgo: it keeps reconnecting in the background after
// its test, and its session manager cannot be stopped.
type botgoLogger struct{}

func (botgoLogger) Debug(...any)          {}
func (botgoLogger) Info(...any)           {}
func (botgoLogger) Warn(...any)           {}
func (botgoLogger) Error(...any)          {}
func (botgoLogger) Debugf(string, ...any) {}
func (botgoLogger) Infof(string, ...any)  {}
func (botgoLogger) Warnf(string, ...any)  {}
func (botgoLogger) Errorf(string, ...any) {}
func (botgoLogger) Sync() error           { return nil }

// botgoEvent is a group event as botgo's dispatch handler saw it.
type botgoEvent struct {
	Type    dto.EventType
	EventID string
	Seq     uint32
	Data    groupEventData
}

// recv waits for the next value of ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
		panic("unreachable")
	}
}

// TestBotgo drives the door with the official Go SDK, unmodified: only its
// domains point at the test server. botgo keeps its handlers and session
// manager in package globals, so this is the package's only botgo test and
// it does not run in parallel.
func TestBotgo(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) {
		// botgo's heartbeat goroutine reads the last seq its reader goroutine
		// writes, unsynchronised; a heartbeat interval longer than the test
		// keeps that race inside botgo from firing under -race.
		o.HeartbeatInterval = 10 * time.Minute
		o.HeartbeatTimeout = 20 * time.Minute
	})
	botgo.SetLogger(botgoLogger{})
	constant.TokenDomain, constant.APIDomain, constant.SandBoxAPIDomain = e.hs.URL, e.hs.URL, e.hs.URL
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	creds := &token.QQBotCredentials{AppID: bot.AppID, AppSecret: bot.AppSecret}
	ts := token.NewQQBotTokenSource(creds)
	if err := token.StartRefreshAccessToken(ctx, ts); err != nil {
		t.Fatalf("token: %v", err)
	}
	api := botgo.NewOpenAPI(creds.AppID, ts).WithTimeout(wait)

	events := make(chan botgoEvent, 100)
	for _, typ := range []dto.EventType{"GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE"} {
		botgo.RegisterDispatchEventHandler(typ, func(ev *dto.WSPayload, raw []byte) error {
			var d groupEventData
			if err := event.ParseData(raw, &d); err != nil {
				return err
			}
			events <- botgoEvent{ev.Type, ev.EventID, ev.Seq, d}
			return nil
		})
	}
	ats := make(chan *dto.WSGroupATMessageData, 100)
	type readyEvent struct {
		seq  uint32
		data *dto.WSReadyData
	}
	readies := make(chan readyEvent, 10)
	intent := event.RegisterHandlers(
		event.GroupATMessageEventHandler(func(_ *dto.WSPayload, d *dto.WSGroupATMessageData) error {
			ats <- d
			return nil
		}),
		event.ReadyHandler(func(ev *dto.WSPayload, d *dto.WSReadyData) { readies <- readyEvent{ev.Seq, d} }),
	)
	intent |= dto.IntentGroupMessages // raw dispatch handlers add no intent

	ap, err := api.WS(ctx, nil, "")
	if err != nil {
		t.Fatalf("gateway/bot: %v", err)
	}
	if ap.URL != "ws"+strings.TrimPrefix(e.hs.URL, "http")+"/websocket" || ap.Shards != 1 || ap.SessionStartLimit.MaxConcurrency != 1 {
		t.Fatalf("gateway/bot: %+v", ap)
	}
	// A session manager of its own (botgo's local one, as NewSessionManager
	// returns): the global one may not be started twice (-count).
	go func() { _ = local.New().Start(ap, ts, &intent) }()
	ready := recv(t, readies, "READY")
	if ready.data.User.ID != bot.AppID || ready.data.User.Username != "QunBot" || !ready.data.User.Bot ||
		fmt.Sprint(ready.data.Shard) != "[0 1]" || ready.data.SessionID == "" {
		t.Fatalf("READY: %+v", ready.data)
	}

	g := e.openID(bot, group.OpenIDGroup, "g1")
	alice := e.openID(bot, group.OpenIDMember, "alice")
	wantEvent := func(typ dto.EventType, op string) botgoEvent {
		t.Helper()
		ev := recv(t, events, string(typ))
		if ev.Type != typ || ev.Data.GroupOpenID != g || ev.Data.OpMemberOpenID != op ||
			!strings.HasPrefix(ev.EventID, string(typ)+":") || ev.Data.Timestamp <= 0 || ev.Seq == 0 {
			t.Fatalf("want %s by %s in %s, got %+v", typ, op, g, ev)
		}
		return ev
	}

	e.createGroup("alice", "g1", "bot1")
	added := wantEvent("GROUP_ADD_ROBOT", alice)
	if err := e.svc.SetProactive(e.ctx(), group.AsUser("alice"), "g1", "bot1", false); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_MSG_REJECT", alice)
	if err := e.svc.SetProactive(e.ctx(), group.AsUser("alice"), "g1", "bot1", true); err != nil {
		t.Fatal(err)
	}
	received := wantEvent("GROUP_MSG_RECEIVE", alice)

	e.mention("alice", "g1", "@QunBot ping", "bot1")
	at := recv(t, ats, "GROUP_AT_MESSAGE_CREATE")
	if at.GroupID != g || at.Author == nil || at.Author.ID != alice || at.Content != " ping" || !strings.HasPrefix(at.ID, msgIDPrefix) {
		t.Fatalf("at message: %+v author %+v", at, at.Author)
	}
	if _, err := at.Timestamp.Time(); err != nil {
		t.Errorf("at message timestamp %q: %v", at.Timestamp, err)
	}

	// A passive reply, as botgo's own example does it.
	sent, err := api.PostGroupMessage(ctx, at.GroupID, &dto.MessageToCreate{MsgType: dto.TextMsg, Content: "pong", MsgID: at.ID, MsgSeq: 1})
	if err != nil {
		t.Fatalf("PostGroupMessage: %v", err)
	}
	if !strings.HasPrefix(sent.ID, msgIDPrefix) || sent.Timestamp == "" {
		t.Errorf("sent message %+v", sent)
	}
	_, err = api.PostGroupMessage(ctx, at.GroupID, &dto.MessageToCreate{Content: "pong again", MsgID: at.ID, MsgSeq: 1})
	if err == nil || !strings.Contains(err.Error(), "40054005") {
		t.Errorf("same msg_seq: %v, want 40054005", err)
	}
	// Passive messages on GROUP_ADD_ROBOT and GROUP_MSG_RECEIVE, by event_id.
	for _, ev := range []botgoEvent{added, received} {
		if _, err := api.PostGroupMessage(ctx, g, &dto.MessageToCreate{Content: "hello " + string(ev.Type), EventID: ev.EventID}); err != nil {
			t.Errorf("event_id %s: %v", ev.EventID, err)
		}
	}
	got := e.timelineTexts("g1")
	want := []string{"alice:@QunBot ping", "bot1:pong", "bot1:hello GROUP_ADD_ROBOT", "bot1:hello GROUP_MSG_RECEIVE"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline %q, want %q", got, want)
	}

	// A burst of events in one commit (written to the socket together)
	// reaches botgo complete and in order.
	const n = 2*DefaultEventBatch + 50
	e.burst(n, "")
	for i := range n {
		if at := recv(t, ats, "GROUP_AT_MESSAGE_CREATE"); at.Content != fmt.Sprintf(" %d", i) {
			t.Fatalf("event %d of the burst: content %q", i, at.Content)
		}
	}

	// Members, through botgo's raw transport (it has no method for them).
	var all []string
	start := 0
	for {
		body, err := api.Transport(ctx, "GET", fmt.Sprintf("%s/v2/groups/%s/members?limit=1&start_index=%d", e.hs.URL, at.GroupID, start), nil)
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		var page membersResponse
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			all = append(all, m.MemberOpenID)
		}
		if page.NextIndex == 0 {
			break
		}
		start = int(page.NextIndex)
	}
	if fmt.Sprint(all) != fmt.Sprint([]string{alice, e.openID(bot, group.OpenIDMember, "bot1")}) {
		t.Errorf("members %v", all)
	}
	body, err := api.Transport(ctx, "POST", e.hs.URL+"/v2/groups/"+at.GroupID+"/members", map[string]int{"limit": 500, "start_index": 0})
	if err != nil || !strings.Contains(string(body), alice) {
		t.Errorf("members by POST: %s %v", body, err)
	}

	// The bot leaves: kicked, dismissed, and quitting itself.
	if err := e.svc.KickMembers(e.ctx(), group.AsUser("alice"), "g1", []string{"bot1"}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_DEL_ROBOT", alice)
	if err := e.svc.AddMembers(e.ctx(), group.AsUser("alice"), "g1", []group.Member{{UserID: "bot1"}}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_ADD_ROBOT", alice)
	if err := e.svc.QuitGroup(e.ctx(), group.Robot("bot1"), "g1", group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_DEL_ROBOT", e.openID(bot, group.OpenIDMember, "bot1"))
	if err := e.svc.AddMembers(e.ctx(), group.AsUser("alice"), "g1", []group.Member{{UserID: "bot1"}}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_ADD_ROBOT", alice)
	if err := e.svc.DismissGroup(e.ctx(), group.AsUser("alice"), "g1", group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantEvent("GROUP_DEL_ROBOT", alice)
	if _, err := api.PostGroupMessage(ctx, g, &dto.MessageToCreate{Content: "anyone?"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("message to a dismissed group: %v", err)
	}
}
