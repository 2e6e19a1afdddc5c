package qqbot

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// seen registers openids as if the bot had been shown them (by an event or a
// member listing) and returns the openid.
func (e *env) seen(b group.Bot, kind, id string) string {
	e.t.Helper()
	ids := e.srv.newOpenIDs(b.UserID)
	o := ids.id(kind, id)
	if err := ids.store(e.ctx()); err != nil {
		e.t.Fatal(err)
	}
	return o
}

// post sends a group message as the bot and returns the answer.
func (e *env) post(tok, groupOpenID string, body any) response {
	e.t.Helper()
	return e.do("POST", "/v2/groups/"+groupOpenID+"/messages", "QQBot "+tok, body)
}

// wantQQ checks an error answer.
func wantQQ(t *testing.T, r response, status, code int) {
	t.Helper()
	b := r.qqErr(t)
	if r.status != status || b.Code != code || b.ErrCode != code || b.TraceID != r.header.Get(traceHeader) {
		t.Errorf("got %d %s; want %d with code %d", r.status, r.body, status, code)
	}
}

// timelineTexts returns "sender:text" of a group's line 0, chat messages only.
func (e *env) timelineTexts(groupID string) []string {
	e.t.Helper()
	ms, _, err := e.svc.Timeline(e.ctx(), groupID, 0, 0, 500)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if !group.IsNotification(m.Payload.Type) {
			out = append(out, m.Sender+":"+m.Payload.SearchableContent)
		}
	}
	return out
}

func TestMessagePassiveReplies(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	e.createGroup("alice", "g1", "bot1")
	g := e.seen(bot, group.OpenIDGroup, "g1")

	m := e.mention("alice", "g1", "@QunBot hi", "bot1")
	msgID := e.srv.msgID("bot1", m.UID)
	reply := func(seq int, text string) response {
		return e.post(tok, g, map[string]any{"content": text, "msg_type": 0, "msg_id": msgID, "msg_seq": seq})
	}
	r := reply(1, "r1")
	var ans messageResponse
	r.json(t, &ans)
	if r.status != 200 || !strings.HasPrefix(ans.ID, msgIDPrefix) {
		t.Fatalf("first reply: %d %s", r.status, r.body)
	}
	if _, err := time.Parse(time.RFC3339, ans.Timestamp); err != nil {
		t.Errorf("timestamp %q is not RFC3339: %v", ans.Timestamp, err)
	}
	wantQQ(t, reply(1, "again"), 400, codeDuplicate)
	for seq := 2; seq <= 5; seq++ {
		if r := reply(seq, "r"); r.status != 200 {
			t.Fatalf("reply %d: %d %s", seq, r.status, r.body)
		}
	}
	wantQQ(t, reply(6, "sixth"), 400, codeExpired)

	// msg_seq defaults to 1, and nulls and unknown keys are ignored (botpy).
	m2 := e.mention("alice", "g1", "@QunBot hey", "bot1")
	botpy := `{"group_openid":"` + g + `","msg_type":0,"content":"pong","embed":null,"ark":null,"message_reference":null,"media":null,"msg_id":"` + e.srv.msgID("bot1", m2.UID) + `","msg_seq":null,"event_id":null,"markdown":null,"keyboard":null}`
	if r := e.post(tok, g, botpy); r.status != 200 {
		t.Errorf("botpy body: %d %s", r.status, r.body)
	}
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": e.srv.msgID("bot1", m2.UID)}), 400, codeDuplicate)

	// A passive message on the GROUP_ADD_ROBOT event.
	addEvent := e.srv.eventID("bot1", group.EventAddRobot, 1)
	if r := e.post(tok, g, map[string]any{"content": "thanks for adding me", "event_id": addEvent}); r.status != 200 {
		t.Errorf("event_id reply: %d %s", r.status, r.body)
	}

	// Malformed and foreign ids.
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": "ROBOT1.0_nope"}), 400, codeInvalidRequest)
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": e.srv.msgID("bot2", m2.UID)}), 400, codeInvalidRequest)
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "event_id": "GROUP_ADD_ROBOT:zz"}), 400, codeInvalidRequest)
	plain, err := e.svc.SendMessage(e.ctx(), group.SendInput{Sender: "alice", ConvType: group.ConvGroup, Target: "g1",
		Payload: group.Payload{Type: group.ContentText, SearchableContent: "no mention"}})
	if err != nil {
		t.Fatal(err)
	}
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": e.srv.msgID("bot1", plain.UID)}), 404, codeInvalidRequest)

	// Past the passive window.
	m3 := e.mention("alice", "g1", "@QunBot late", "bot1")
	e.clock.advance(group.DefaultPassiveWindow + time.Second)
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": e.srv.msgID("bot1", m3.UID)}), 400, codeExpired)

	got := e.timelineTexts("g1")
	want := []string{"alice:@QunBot hi", "bot1:r1", "bot1:r", "bot1:r", "bot1:r", "bot1:r", "alice:@QunBot hey", "bot1:pong", "bot1:thanks for adding me", "alice:no mention", "alice:@QunBot late"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline:\n got %q\nwant %q", got, want)
	}
}

func TestMessageProactive(t *testing.T) {
	e := newEnv(t, func(c *group.Config, _ *Options) { c.ProactiveQuota = 2 })
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	e.createGroup("alice", "g1", "bot1")
	g := e.seen(bot, group.OpenIDGroup, "g1")

	for i := range 2 {
		if r := e.post(tok, g, map[string]any{"content": "news"}); r.status != 200 {
			t.Fatalf("proactive %d: %d %s", i, r.status, r.body)
		}
	}
	wantQQ(t, e.post(tok, g, map[string]any{"content": "news"}), 403, codeOverQuota)

	if err := e.svc.SetProactive(e.ctx(), group.AsUser("alice"), "g1", "bot1", false); err != nil {
		t.Fatal(err)
	}
	r := e.post(tok, g, map[string]any{"content": "news"})
	wantQQ(t, r, 403, codeRejected)
	if b := r.qqErr(t); b.Message != "主动消息失败, 无权限: the group turned the bot's proactive messages off" {
		t.Errorf("message %q", b.Message)
	}
	// Passive replies still go through.
	m := e.mention("alice", "g1", "@QunBot hi", "bot1")
	if r := e.post(tok, g, map[string]any{"content": "hello", "msg_id": e.srv.msgID("bot1", m.UID)}); r.status != 200 {
		t.Errorf("passive while proactive is off: %d %s", r.status, r.body)
	}
}

// badMessageBodies are message bodies answered 400 11255; they also seed FuzzMessageBody.
var badMessageBodies = []struct{ name, body string }{
	{"not json", "content=x"},
	{"json array", `[{"content":"x"}]`},
	{"text without content", `{"msg_type":0}`},
	{"text with empty content", `{"content":""}`},
	{"markdown without markdown", `{"msg_type":2,"content":"x"}`},
	{"ark without ark", `{"msg_type":3}`},
	{"media without file_info", `{"msg_type":7,"media":{}}`},
	{"media file_info not a string", `{"msg_type":7,"media":{"file_info":1}}`},
	{"unknown msg_type", `{"msg_type":9,"content":"x"}`},
	{"msg_type a string", `{"msg_type":"0","content":"x"}`},
	{"markdown not an object", `{"msg_type":2,"markdown":"x"}`},
	{"negative msg_seq", `{"content":"x","msg_seq":-1}`},
	{"fractional msg_seq", `{"content":"x","msg_seq":1.5}`},
	{"huge msg_seq", `{"content":"x","msg_seq":99999999999}`},
	{"msg_id a number", `{"content":"x","msg_id":1}`},
}

// goodMessageBodies are bodies the SDKs send; they also seed FuzzMessageBody.
var goodMessageBodies = []string{
	`{"content":"pong","msg_id":"ROBOT1.0_msg1","msg_seq":1}`,
	`{"group_openid":"C9F7","msg_type":0,"content":"pong","embed":null,"ark":null,"message_reference":null,"media":null,"msg_id":"ROBOT1.0_msg1","msg_seq":1,"event_id":null,"markdown":null,"keyboard":null}`,
	`{"msg_type":2,"markdown":{"content":"**hi**"},"keyboard":{"id":"kb"},"msg_seq":2}`,
	`{"msg_type":7,"content":" ","media":{"file_info":"aGVsbG8="},"event_id":"GROUP_ADD_ROBOT:00"}`,
	`{"msg_type":3,"ark":{"template_id":23,"kv":[]}}`,
}

func TestParseMessageBody(t *testing.T) {
	for _, b := range goodMessageBodies {
		req, ae := parseMessageBody([]byte(b))
		if ae != nil || req.MsgSeq < 1 {
			t.Errorf("parse %s: %+v %v", b, req, ae)
		}
	}
	req, _ := parseMessageBody([]byte(goodMessageBodies[1]))
	if !cmp.Equal(req.Payload, group.Payload{Type: group.ContentText, SearchableContent: "pong"}) || req.MsgID != "ROBOT1.0_msg1" || req.MsgSeq != 1 || req.EventID != "" {
		t.Errorf("botpy body parsed to %+v", req)
	}
	for _, b := range badMessageBodies {
		if _, ae := parseMessageBody([]byte(b.body)); ae == nil || ae.Status != 400 || ae.Code != codeInvalidRequest {
			t.Errorf("%s: %s parsed, want 400 11255 (got %+v)", b.name, b.body, ae)
		}
	}
}

func TestMessageBodiesAndGroups(t *testing.T) {
	e := newEnv(t)
	bot, bot2 := e.robot("bot1", "QunBot"), e.robot("bot2", "Other")
	e.users("alice")
	tok := e.token(bot)
	e.createGroup("alice", "g1", "bot1", "bot2")
	e.createGroup("alice", "g2", "bot1")
	g := e.seen(bot, group.OpenIDGroup, "g1")
	m := e.mention("alice", "g1", "@QunBot hi", "bot1")
	msgID := e.srv.msgID("bot1", m.UID)

	md := map[string]any{"msg_type": 2, "markdown": map[string]any{"content": "**hi**"}, "keyboard": map[string]any{"id": "kb"}, "msg_id": msgID, "msg_seq": 1}
	if r := e.post(tok, g, md); r.status != 200 {
		t.Fatalf("markdown: %d %s", r.status, r.body)
	}
	media := map[string]any{"msg_type": 7, "content": " ", "media": map[string]any{"file_info": "aGVsbG8="}, "msg_id": msgID, "msg_seq": 2}
	if r := e.post(tok, g, media); r.status != 200 {
		t.Fatalf("media: %d %s", r.status, r.body)
	}
	ms, _, err := e.svc.Timeline(e.ctx(), "g1", 0, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var rich []map[string]any
	for _, m := range ms {
		if m.Payload.Type == ContentQQMessage {
			var v map[string]any
			if err := json.Unmarshal([]byte(m.Payload.Content), &v); err != nil {
				t.Fatal(err)
			}
			rich = append(rich, v)
		}
	}
	if len(rich) != 2 || rich[0]["msg_type"] != 2.0 || rich[0]["markdown"].(map[string]any)["content"] != "**hi**" ||
		rich[0]["keyboard"] == nil || rich[1]["msg_type"] != 7.0 || rich[1]["media"].(map[string]any)["file_info"] != "aGVsbG8=" {
		t.Errorf("rich messages stored as %v", rich)
	}

	for _, tc := range badMessageBodies {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			wantQQ(t, e.post(tok, g, tc.body), 400, codeInvalidRequest)
		})
	}
	e.t = t

	// Another bot's openid of the same group, and a made-up one, name nothing for bot1.
	g2of2 := e.seen(bot2, group.OpenIDGroup, "g1")
	wantQQ(t, e.post(tok, g2of2, map[string]any{"content": "x", "msg_id": msgID, "msg_seq": 9}), 404, codeInvalidRequest)
	wantQQ(t, e.post(tok, strings.Repeat("A", 32), map[string]any{"content": "x"}), 404, codeInvalidRequest)
	wantQQ(t, e.do("GET", "/v2/groups/"+g2of2+"/members", "QQBot "+tok, nil), 404, codeInvalidRequest)
	// A member openid is not a group openid.
	alice := e.seen(bot, group.OpenIDMember, "alice")
	wantQQ(t, e.post(tok, alice, map[string]any{"content": "x"}), 404, codeInvalidRequest)

	// Not a member any more, and a group that is gone.
	gg2 := e.seen(bot, group.OpenIDGroup, "g2")
	if err := e.svc.KickMembers(e.ctx(), group.AsUser("alice"), "g2", []string{"bot1"}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantQQ(t, e.post(tok, gg2, map[string]any{"content": "x"}), 403, codeNotInGroup)
	if err := e.svc.DismissGroup(e.ctx(), group.AsUser("alice"), "g2", group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantQQ(t, e.post(tok, gg2, map[string]any{"content": "x"}), 404, codeInvalidRequest)

	// A muted group.
	if err := e.svc.ModifyGroup(e.ctx(), group.AsUser("alice"), "g1", group.ModifyMute, "1", group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantQQ(t, e.post(tok, g, map[string]any{"content": "x", "msg_id": msgID, "msg_seq": 3}), 403, codeMuted)
}

func TestIceBreaker(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	ib := group.IceBreaker{Enabled: true, Payload: group.Payload{Type: group.ContentText, SearchableContent: "大家好，我是 QunBot"}}
	if err := e.svc.SetIceBreaker(e.ctx(), "bot1", ib); err != nil {
		t.Fatal(err)
	}
	w := e.dial()
	w.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1")
	if err := e.svc.AddMembers(e.ctx(), group.AsUser("alice"), "g1", []group.Member{{UserID: "bot1"}}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	f := w.event("GROUP_ADD_ROBOT")
	if got := e.timelineTexts("g1"); len(got) != 1 || got[0] != "bot1:大家好，我是 QunBot" {
		t.Errorf("timeline after the bot joined: %q", got)
	}
	// The bot may answer its GROUP_ADD_ROBOT with the frame id as event_id.
	var d groupEventData
	if err := json.Unmarshal(f.D, &d); err != nil {
		t.Fatal(err)
	}
	if r := e.post(tok, d.GroupOpenID, map[string]any{"content": "hi all", "event_id": f.ID}); r.status != 200 {
		t.Errorf("event_id reply: %d %s", r.status, r.body)
	}

	ib.Enabled = false
	if err := e.svc.SetIceBreaker(e.ctx(), "bot1", ib); err != nil {
		t.Fatal(err)
	}
	e.createGroup("alice", "g2", "bot1")
	w.event("GROUP_ADD_ROBOT")
	if got := e.timelineTexts("g2"); len(got) != 0 {
		t.Errorf("a disabled ice-breaker was posted: %q", got)
	}
}

// A message body of tens of thousands of tiny list elements costs a few times
// its own size: the door decodes no list into elements (keyboard, ark, embed
// and the rest are kept as JSON text), and the body is bounded by MaxBody.
func TestHostileMessageBodiesAreCheap(t *testing.T) {
	fill := func(prefix, elem, suffix string) []byte {
		var b strings.Builder
		b.WriteString(prefix)
		for i := 0; b.Len()+1+len(elem)+len(suffix) <= DefaultMaxBody; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(elem)
		}
		b.WriteString(suffix)
		return []byte(b.String())
	}
	n := (DefaultMaxBody - 32) / 2
	for name, body := range map[string][]byte{
		"keyboard rows":   fill(`{"content":"x","keyboard":{"content":{"rows":[`, `{}`, `]}}}`),
		"markdown params": fill(`{"msg_type":2,"markdown":{"content":"x","params":[`, `{"key":"k","values":[]}`, `]}}`),
		"unknown list":    fill(`{"content":"x","x":[`, `0`, `]}`),
		"many keys":       fill(`{"content":"x",`, `"k":0`, `}`),
		"nested":          []byte(`{"content":"x","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`),
	} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		parseMessageBody(body)
		runtime.ReadMemStats(&m1)
		// encoding/json's own depth limit bounds what nesting costs.
		got := m1.TotalAlloc - m0.TotalAlloc
		t.Logf("%s: a %d KiB body allocated %d KiB", name, len(body)>>10, got>>10)
		if got > 1<<20 {
			t.Errorf("%s: a %d KiB body allocated %d KiB, more than 1 MiB", name, len(body)>>10, got>>10)
		}
	}
}
