package qqbot

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/group"
)

// A refused call's message says why in words a bot can act on (botgo and
// botpy show it), and never names an internal id: the bot knows the group
// only by its openid.
func TestErrorMessagesSayWhy(t *testing.T) {
	e := newEnv(t, func(c *group.Config, _ *Options) { c.ProactiveQuota = 1 })
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	const gid = "grp-internal-7"
	e.createGroup("alice", gid, "bot1")
	g := e.seen(bot, group.OpenIDGroup, gid)
	reply := func(m group.Message, seq int) response {
		return e.post(tok, g, map[string]any{"content": "r", "msg_id": e.srv.msgID("bot1", m.UID), "msg_seq": seq})
	}
	m1, m2 := e.mention("alice", gid, "@QunBot hi", "bot1"), e.mention("alice", gid, "@QunBot hey", "bot1")
	for seq := 1; seq <= 5; seq++ {
		if r := reply(m1, seq); r.status != 200 {
			t.Fatalf("reply: %d %s", r.status, r.body)
		}
	}
	reply(m2, 1)
	if r := e.post(tok, g, map[string]any{"content": "news"}); r.status != 200 {
		t.Fatalf("proactive: %d %s", r.status, r.body)
	}
	cases := []struct {
		name    string
		r       response
		status  int
		message string
	}{
		{"duplicate reply", reply(m2, 1), 400, "消息被去重，请检查请求msgseq: msg_seq 1 was used for this reply already"},
		{"sixth reply", reply(m1, 6), 400, "被动回复已过期或次数已用完: the 5 passive replies are used up"},
		{"quota", e.post(tok, g, map[string]any{"content": "news"}), 403, "主动消息频率超限: the bot used its 1 proactive messages to the group"},
		{"unknown group", e.post(tok, strings.Repeat("A", 32), map[string]any{"content": "x"}), 404, "not found: unknown group_openid"},
		{"bad field", e.post(tok, g, map[string]any{"content": "x", "msg_seq": -1}), 400, "invalid request: msg_seq must be a non-negative integer"},
	}
	for _, c := range cases {
		b := c.r.qqErr(t)
		if c.r.status != c.status || b.Message != c.message {
			t.Errorf("%s: %d %q, want %d %q", c.name, c.r.status, b.Message, c.status, c.message)
		}
		if strings.Contains(string(c.r.body), gid) {
			t.Errorf("%s: the body names the internal group id: %s", c.name, c.r.body)
		}
	}
}

// logLine is one JSON log line.
type logLine map[string]any

// logLines returns the JSON lines of buf whose msg is msg.
func logLines(t *testing.T, buf *syncBuffer, msg string) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Every request has a debug line; a refused one also has one info line with
// its route (the pattern, not the path), caller, code and reason, and no
// line ever holds the token or the app secret.
func TestAccessLog(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, func(_ *group.Config, o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	e.createGroup("alice", "g1", "bot1")
	g := e.seen(bot, group.OpenIDGroup, "g1")
	if r := e.do("GET", "/v2/groups/"+g+"/members", "QQBot "+tok, nil); r.status != 200 {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/v2/groups/"+g+"/members?limit=501", "QQBot "+tok, nil)
	wantQQ(t, r, 400, codeInvalidRequest)
	wantQQ(t, e.do("GET", "/users/@me", "QQBot "+tok+"x", nil), 401, codeTokenInvalid)
	wantQQ(t, e.do("POST", "/app/getAppAccessToken", "", map[string]string{"appId": bot.AppID, "clientSecret": "wrong-secret"}), 401, codeAppInvalid)

	refused := logLines(t, logs, "request refused")
	want := []logLine{
		{"route": "/v2/groups/{group_openid}/members", "caller": bot.AppID, "code": "11255", "status": float64(400),
			"reason": "invalid request: limit must be 1..500", "trace_id": r.header.Get(traceHeader)},
		{"route": "/users/@me", "caller": "", "code": "11244", "status": float64(401), "reason": "token not exist or expire: unknown token"},
		{"route": "/app/getAppAccessToken", "caller": bot.AppID, "code": "100016", "status": float64(401), "reason": "invalid appid or secret: clientSecret is not the app's"},
	}
	if len(refused) != len(want) {
		t.Fatalf("%d refused lines, want %d:\n%s", len(refused), len(want), logs)
	}
	for i, w := range want {
		if refused[i]["level"] != "INFO" || refused[i]["door"] != "qq" {
			t.Errorf("line %d: %v", i, refused[i])
		}
		for k, v := range w {
			if refused[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, refused[i][k], v)
			}
		}
	}
	if n := len(logLines(t, logs, "request")); n != 5 { // the tokens twice, members twice, @me
		t.Errorf("%d request lines, want 5:\n%s", n, logs)
	}
	for _, secret := range []string{tok, bot.AppSecret, "wrong-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a secret or token %q:\n%s", secret, logs)
		}
	}
}

// A gateway connection logs its identify at debug and its end at info, with
// the close code and reason.
func TestGatewayLog(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, func(_ *group.Config, o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	bot := e.robot("bot1", "QunBot")
	tok := e.token(bot)
	w := e.dial()
	w.identify(tok, intentGroupAndC2C, [2]int{})
	w.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + tok}})
	w.expectClose(closeAlreadyAuthed)

	// The line is written before the close frame is sent.
	closed := logLines(t, logs, "qqbot: gateway connection closed")
	if len(closed) != 1 || closed[0]["level"] != "INFO" || closed[0]["code"] != float64(closeAlreadyAuthed) ||
		closed[0]["reason"] != "already identified" || closed[0]["by"] != "server" || closed[0]["bot"] != "bot1" {
		t.Errorf("close lines %v", closed)
	}
	if ids := logLines(t, logs, "qqbot: identify"); len(ids) != 1 || ids[0]["level"] != "DEBUG" || ids[0]["bot"] != "bot1" {
		t.Errorf("identify lines %v", ids)
	}
	if strings.Contains(logs.String(), tok) {
		t.Errorf("the log holds the token:\n%s", logs)
	}

	// A frame over MaxFrame: the WebSocket library closes with 1009 before
	// the connection's loop sees the read fail, and the line says so. The
	// line is written before the connection is untracked.
	w = e.dial()
	w.sendRaw(`{"op":1,"d":"` + strings.Repeat("x", DefaultMaxFrame) + `"}`)
	w.expectClose(websocket.StatusMessageTooBig)
	for deadline := time.Now().Add(wait); e.srv.liveConns() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	closed = logLines(t, logs, "qqbot: gateway connection closed")
	if len(closed) != 2 || closed[1]["code"] != float64(websocket.StatusMessageTooBig) || closed[1]["by"] != "server" ||
		closed[1]["reason"] != "a frame over 16384 bytes" {
		t.Errorf("close lines %v", closed)
	}
}

// liveConns is how many gateway connections the server tracks.
func (s *Server) liveConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
