package qqbot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

const intentsGroup = intentGroupAndC2C

func TestGatewayHandshakeAndDispatch(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	w := e.dial()
	w.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + tok, "intents": intentsGroup, "shard": []int{0, 0}}})
	f := w.read()
	if f.Op != 0 || f.T != "READY" || f.S == nil || *f.S != 1 { // the s of a bot without events
		t.Fatalf("READY frame: %+v", f)
	}
	var ready readyData
	f2 := map[string]any{}
	if err := json.Unmarshal(f.D, &f2); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.D, &ready); err != nil {
		t.Fatal(err)
	}
	want := readyData{Version: 1, SessionID: ready.SessionID, User: readyUser{ID: bot.AppID, Username: "QunBot", Bot: true}, Shard: [2]int{0, 1}}
	if diff := cmp.Diff(want, ready); diff != "" || len(ready.SessionID) != 36 {
		t.Errorf("READY d (-want +got):\n%s session %q", diff, ready.SessionID)
	}

	for _, d := range []string{`null`, `0`, `7`} {
		w.sendRaw(`{"op":1,"d":` + d + `,"Session":null}`)
		if f := w.read(); f.Op != opHeartbeatACK {
			t.Fatalf("heartbeat d=%s: got %+v", d, f)
		}
	}
	w.sendRaw(`{"op":1}`)
	if f := w.read(); f.Op != opHeartbeatACK {
		t.Fatalf("heartbeat without d: got %+v", f)
	}

	e.createGroup("alice", "g1", "bot1")
	f = w.event("GROUP_ADD_ROBOT")
	if *f.S != 2 || !strings.HasPrefix(f.ID, "GROUP_ADD_ROBOT:") { // log seq 1
		t.Errorf("frame s=%d id=%q", *f.S, f.ID)
	}
	var d map[string]any
	if err := json.Unmarshal(f.D, &d); err != nil {
		t.Fatal(err)
	}
	g, alice := e.openID(bot, group.OpenIDGroup, "g1"), e.openID(bot, group.OpenIDMember, "alice")
	wantD := map[string]any{"group_openid": g, "op_member_openid": alice, "timestamp": d["timestamp"]}
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Errorf("GROUP_ADD_ROBOT d (-want +got):\n%s", diff)
	}
	if ts, ok := d["timestamp"].(float64); !ok || time.Since(time.Unix(int64(ts), 0)) > time.Hour {
		t.Errorf("timestamp %v is not a recent unix time", d["timestamp"])
	}

	m := e.mention("alice", "g1", "@QunBot hello", "bot1")
	f = w.event("GROUP_AT_MESSAGE_CREATE")
	var at map[string]any
	if err := json.Unmarshal(f.D, &at); err != nil {
		t.Fatal(err)
	}
	wantAt := map[string]any{
		"author":       map[string]any{"id": alice, "member_openid": alice, "union_openid": ""},
		"content":      " hello",
		"group_id":     g,
		"group_openid": g,
		"id":           e.srv.msgID("bot1", m.UID),
		"timestamp":    m.CreatedAt.Format(time.RFC3339),
		"attachments":  []any{},
	}
	if diff := cmp.Diff(wantAt, at); diff != "" {
		t.Errorf("GROUP_AT_MESSAGE_CREATE d (-want +got):\n%s", diff)
	}
	if uid, ok := e.srv.parseMsgID("bot1", at["id"].(string)); !ok || uid != m.UID {
		t.Errorf("d.id %v parses to %d, %v; want %d", at["id"], uid, ok, m.UID)
	}
	if seq, ok := e.srv.parseEventID("bot1", f.ID); !ok || seq != *f.S-1 { // the log seq: s is one more
		t.Errorf("frame id %q parses to %d, %v; want %d", f.ID, seq, ok, *f.S-1)
	}

	// The server acting on its own: the operator openid is empty.
	if _, err := e.svc.CreateGroup(e.ctx(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g2", Owner: "alice"},
		Members: []group.Member{{UserID: "bot1"}}}); err != nil {
		t.Fatal(err)
	}
	f = w.event("GROUP_ADD_ROBOT")
	if !strings.Contains(string(f.D), `"op_member_openid":""`) {
		t.Errorf("ADD_ROBOT by the server: %s", f.D)
	}

	// A second identify on the same connection.
	w.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + tok, "intents": intentsGroup}})
	w.expectClose(closeAlreadyAuthed)
}

// badFrames are frames that close a fresh connection, whatever the server's
// state; they also seed FuzzGatewayFrame.
var badFrames = []struct {
	name  string
	frame string
	code  websocket.StatusCode
}{
	{"not json", "hello", closeBadPayload},
	{"json array", "[1,2]", closeBadPayload},
	{"json null", "null", closeBadPayload},
	{"op is a string", `{"op":"2"}`, closeBadPayload},
	{"op is a fraction", `{"op":1.5}`, closeBadPayload},
	{"no op", `{"d":{}}`, closeBadPayload},
	{"unknown op", `{"op":3}`, closeUnknownOp},
	{"server op from client", `{"op":11}`, closeUnknownOp},
	{"heartbeat before identify", `{"op":1,"d":null}`, closeNotAuthenticated},
	{"identify d not an object", `{"op":2,"d":"x"}`, closeBadPayload},
	{"identify intents not a number", `{"op":2,"d":{"token":"x","intents":"1"}}`, closeBadPayload},
	{"identify without token", `{"op":2,"d":{"intents":1}}`, closeAuthFailed},
	{"identify with a bad token", `{"op":2,"d":{"token":"QQBot nope","intents":33554432,"shard":[0,1],"properties":{}},"Session":null}`, closeAuthFailed},
	{"resume d not an object", `{"op":6,"d":[]}`, closeBadPayload},
	{"resume negative seq", `{"op":6,"d":{"token":"x","session_id":"x","seq":-1}}`, closeBadPayload},
	{"resume bad token", `{"op":6,"d":{"token":"nope","session_id":"x","seq":0}}`, closeAuthFailed},
}

func TestGatewayCloseCodes(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.MaxFrame = 1024 })
	bot := e.robot("bot1", "QunBot")
	tok := e.token(bot)
	identify := func(d map[string]any) string {
		b, _ := json.Marshal(map[string]any{"op": 2, "d": d})
		return string(b)
	}
	good := identify(map[string]any{"token": "QQBot " + tok, "intents": intentsGroup})
	cases := []struct {
		name   string
		frames []string
		code   websocket.StatusCode
	}{
		{"no token", []string{identify(map[string]any{"intents": 1})}, closeAuthFailed},
		{"legacy token of another app", []string{identify(map[string]any{"token": "Bot 1." + tok, "intents": 1})}, closeAuthFailed},
		{"shard out of range", []string{identify(map[string]any{"token": tok, "intents": 1, "shard": []int{2, 2}})}, closeInvalidShard},
		{"shard of three", []string{identify(map[string]any{"token": tok, "intents": 1, "shard": []int{0, 1, 2}})}, closeInvalidShard},
		{"too many shards", []string{identify(map[string]any{"token": tok, "intents": 1, "shard": []int{0, DefaultMaxShards + 1}})}, closeShardingRequired},
		{"unknown intent bit", []string{identify(map[string]any{"token": tok, "intents": 1 << 16})}, closeInvalidIntents},
		{"negative intents", []string{identify(map[string]any{"token": tok, "intents": -1})}, closeInvalidIntents},
		{"disallowed intent", []string{identify(map[string]any{"token": tok, "intents": 1 << 9})}, closeDisallowedIntents},
		{"identify twice", []string{good, good}, closeAlreadyAuthed},
		{"resume after identify", []string{good, `{"op":6,"d":{"token":"` + tok + `","session_id":"x","seq":0}}`}, closeAlreadyAuthed},
		{"heartbeat d a string", []string{good, `{"op":1,"d":"x"}`}, closeBadPayload},
		{"frame too large", []string{`{"op":1,"d":"` + strings.Repeat("x", 2000) + `"}`}, websocket.StatusMessageTooBig},
	}
	for _, b := range badFrames {
		cases = append(cases, struct {
			name   string
			frames []string
			code   websocket.StatusCode
		}{b.name, []string{b.frame}, b.code})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.dial()
			w.t = t
			for _, f := range tc.frames {
				w.sendRaw(f)
			}
			w.expectClose(tc.code)
		})
	}
}

func TestGatewayIdentifyRate(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.IdentifyRate = 2 })
	tok := e.token(e.robot("bot1", "QunBot"))
	for range 2 {
		w := e.dial()
		w.identify(tok, intentsGroup, [2]int{0, 1})
	}
	w := e.dial()
	w.send(map[string]any{"op": 2, "d": map[string]any{"token": tok, "intents": intentsGroup}})
	w.expectClose(closeRateLimited)
}

func TestGatewayHeartbeatTimeout(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.HeartbeatTimeout = 50 * time.Millisecond })
	tok := e.token(e.robot("bot1", "QunBot"))
	t.Run("after identify", func(t *testing.T) {
		w := e.dial()
		w.identify(tok, intentsGroup, [2]int{0, 1})
		w.expectClose(closeSessionTimeout)
	})
	t.Run("without identify", func(t *testing.T) {
		e.dial().expectClose(closeSessionTimeout)
	})
}

// invalidSession expects op 9 with d false, then the server's close.
func (w *wsClient) invalidSession() {
	w.t.Helper()
	f := w.read()
	if f.Op != opInvalidSession || string(f.D) != "false" {
		w.t.Fatalf("want op 9 false, got %+v %s", f, f.D)
	}
	if _, err := w.next(); err == nil || websocket.CloseStatus(err) == -1 {
		w.t.Fatalf("want a close after op 9, got %v", err)
	}
}

func (w *wsClient) resume(token, sessionID string, seq int64) {
	w.t.Helper()
	w.send(map[string]any{"op": opResume, "d": map[string]any{"token": token, "session_id": sessionID, "seq": seq}})
}

func TestGatewayResumeInvalid(t *testing.T) {
	e := newEnv(t)
	bot1, bot2 := e.robot("bot1", "One"), e.robot("bot2", "Two")
	tok1, tok2 := e.token(bot1), e.token(bot2)
	w := e.dial()
	sess, _ := w.identify(tok1, intentsGroup, [2]int{0, 1})
	_ = w.c.CloseNow()

	for _, tc := range []struct {
		name, token, session string
		seq                  int64
	}{
		{"unknown session", tok1, "no-such-session", 0},
		{"empty session", tok1, "", 0},
		{"another bot's session", tok2, sess, 0},
		{"seq ahead of the log", tok1, sess, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.dial()
			w.t = t
			w.resume(tc.token, tc.session, tc.seq)
			w.invalidSession()
		})
	}
}

func TestGatewayResumeReplaysMissedEvents(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	w := e.dial()
	sess, s := w.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")
	last := *w.event("GROUP_ADD_ROBOT").S
	_ = w.c.CloseNow() // dropped, no close handshake

	ctx := e.ctx()
	if err := e.svc.SetProactive(ctx, group.AsUser("alice"), "g1", "bot1", false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetProactive(ctx, group.AsUser("alice"), "g1", "bot1", true); err != nil {
		t.Fatal(err)
	}
	e.mention("alice", "g1", "@QunBot hi", "bot1")

	w = e.dial()
	w.resume(tok, sess, last) // botgo's form: no "QQBot " prefix
	var got []string
	for _, typ := range []string{"GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE", "GROUP_AT_MESSAGE_CREATE"} {
		f := w.event(typ)
		got = append(got, fmt.Sprintf("%s:%d", f.T, *f.S))
	}
	want := []string{"GROUP_MSG_REJECT:3", "GROUP_MSG_RECEIVE:4", "GROUP_AT_MESSAGE_CREATE:5"}
	if diff := cmp.Diff(want, got); diff != "" || s != 1 {
		t.Errorf("replay (-want +got):\n%s (READY s %d)", diff, s)
	}
	f := w.event("RESUMED")
	if *f.S != 5 || string(f.D) != `""` {
		t.Errorf("RESUMED s=%d d=%s, want s=5 d=\"\"", *f.S, f.D)
	}
	// Live delivery goes on after the replay.
	e.mention("alice", "g1", "@QunBot again", "bot1")
	if f := w.event("GROUP_AT_MESSAGE_CREATE"); *f.S != 6 {
		t.Errorf("live event s=%d, want 6", *f.S)
	}
	w.sendRaw(`{"op":1,"d":6}`)
	if f := w.read(); f.Op != opHeartbeatACK {
		t.Errorf("heartbeat after resume: %+v", f)
	}

	// A new identify gets only new events: READY s is the log's end.
	w2 := e.dial()
	if _, s := w2.identify(tok, intentsGroup, [2]int{0, 1}); s != 6 {
		t.Errorf("READY s=%d, want 6", s)
	}

	// The resumed session moves: the connection that held it is told so.
	w3 := e.dial()
	w3.resume("QQBot "+tok, sess, 6)
	w3.event("RESUMED")
	w.expectClose(closeSessionInvalid)
}

func TestGatewayResumeAfterRestart(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	w := e.dial()
	sess, _ := w.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")
	last := *w.event("GROUP_ADD_ROBOT").S

	closed := w.closeLater(closeSessionTimeout) // the old server's Close
	e.restart()
	closed()
	e.mention("alice", "g1", "@QunBot are you back?", "bot1")

	w = e.dial()
	w.resume("QQBot "+tok, sess, last)
	f := w.event("GROUP_AT_MESSAGE_CREATE")
	var d atMessageData
	if err := json.Unmarshal(f.D, &d); err != nil {
		t.Fatal(err)
	}
	if d.Content != " are you back?" || d.GroupOpenID != e.openID(bot, group.OpenIDGroup, "g1") {
		t.Errorf("replayed d %+v", d)
	}
	if f := w.event("RESUMED"); *f.S != 3 {
		t.Errorf("RESUMED s=%d, want 3", *f.S)
	}
	// The token survived the restart too.
	if r := e.do("GET", "/users/@me", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("users/@me after restart: %d %s", r.status, r.body)
	}
}

// replay resumes session from seq and returns the dispatches before RESUMED, and RESUMED's s.
func (e *env) replay(token, session string, seq int64) ([]wsFrame, int64) {
	e.t.Helper()
	w := e.dial()
	w.resume(token, session, seq)
	var fs []wsFrame
	for {
		f := w.read()
		if f.Op != opDispatch || f.S == nil {
			e.t.Fatalf("replay: %+v", f)
		}
		if f.T == "RESUMED" {
			_ = w.c.CloseNow()
			return fs, *f.S
		}
		fs = append(fs, f)
	}
}

func TestGatewayIntentsFilter(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	guilds := e.dial()
	noGroup, _ := guilds.identify(tok, intentGuilds, [2]int{0, 1})
	_ = guilds.c.CloseNow()
	live := e.dial()
	live.identify(tok, intentsGroup|intentGuilds, [2]int{0, 1})

	e.createGroup("alice", "g1", "bot1")
	e.mention("alice", "g1", "@QunBot hi", "bot1")
	live.event("GROUP_ADD_ROBOT")
	live.event("GROUP_AT_MESSAGE_CREATE")

	// Replay is synchronous: whatever the session would get comes before RESUMED.
	fs, s := e.replay(tok, noGroup, 0)
	if len(fs) != 0 || s != 3 {
		t.Errorf("a session without 1<<25 got %d events, RESUMED s=%d; want none and s=3", len(fs), s)
	}
}

func TestGatewayShards(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	var sessions [2]string
	for i := range sessions {
		w := e.dial()
		sessions[i], _ = w.identify(tok, intentsGroup, [2]int{i, 2})
		_ = w.c.CloseNow()
	}
	const groups = 12
	want := map[string]int{}
	for i := range groups {
		id := fmt.Sprintf("g%d", i)
		e.createGroup("alice", id, "bot1")
		want[e.openID(bot, group.OpenIDGroup, id)] = -1
	}
	got := map[string]int{}
	for shard, sess := range sessions {
		fs, s := e.replay(tok, sess, 0)
		if s != groups+1 {
			t.Errorf("shard %d: RESUMED s=%d, want %d", shard, s, groups+1)
		}
		prev := int64(0)
		for _, f := range fs {
			var d groupEventData
			if err := json.Unmarshal(f.D, &d); err != nil {
				t.Fatal(err)
			}
			if _, dup := got[d.GroupOpenID]; dup {
				t.Errorf("group %s reached two shards", d.GroupOpenID)
			}
			got[d.GroupOpenID] = shard
			if *f.S <= prev {
				t.Errorf("shard %d: s %d after %d", shard, *f.S, prev)
			}
			prev = *f.S
		}
	}
	for g := range want {
		sh, ok := got[g]
		if !ok {
			t.Errorf("group %s reached no shard", g)
			continue
		}
		if exp := shardOf(g, 2); sh != exp {
			t.Errorf("group %s on shard %d, want fnv32a %% 2 = %d", g, sh, exp)
		}
	}
	if n0 := len(got) - countShard(got, 1); n0 == 0 || n0 == groups {
		t.Errorf("all %d groups on one shard: the split is not exercised", groups)
	}
}

func countShard(m map[string]int, shard int) int {
	n := 0
	for _, s := range m {
		if s == shard {
			n++
		}
	}
	return n
}

func TestGatewayRetention(t *testing.T) {
	for _, prune := range []bool{false, true} {
		t.Run(fmt.Sprintf("pruned=%v", prune), func(t *testing.T) {
			e := newEnv(t, func(_ *group.Config, o *Options) {
				o.EventRetention = time.Hour
				o.TokenTTL = 100 * time.Hour
			})
			bot := e.robot("bot1", "QunBot")
			e.users("alice")
			tok := e.token(bot)
			w := e.dial()
			sess, _ := w.identify(tok, intentsGroup, [2]int{0, 1})
			_ = w.c.CloseNow()
			e.createGroup("alice", "g1", "bot1")
			e.clock.advance(2 * time.Hour)
			if prune {
				if err := e.srv.Prune(e.ctx()); err != nil {
					t.Fatal(err)
				}
			}
			w = e.dial()
			w.resume(tok, sess, 0)
			w.invalidSession()

			// Nothing missed: resuming at the log's end still works.
			fs, s := e.replay(tok, sess, 2)
			if len(fs) != 0 || s != 2 {
				t.Errorf("resume at the end: %d events, s=%d", len(fs), s)
			}
		})
	}
}

func TestGatewayCloseResumes(t *testing.T) {
	e := newEnv(t)
	tok := e.token(e.robot("bot1", "QunBot"))
	w := e.dial()
	w.identify(tok, intentsGroup, [2]int{0, 1})
	closed := w.closeLater(closeSessionTimeout)
	e.srv.Close()
	closed()
}

// groupsOnShards returns a group id on each of count shards of bot.
func (e *env) groupsOnShards(bot group.Bot, count int) []string {
	ids := make([]string, count)
	for i, found := 0, 0; found < count; i++ {
		id := fmt.Sprintf("g%d", i)
		if sh := shardOf(e.openID(bot, group.OpenIDGroup, id), count); ids[sh] == "" {
			ids[sh] = id
			found++
		}
	}
	return ids
}

// A shard's seq moves only with its own frames: a quiet shard whose last
// frame is older than the event retention still resumes while another shard
// is busy, and gets what was committed while it was away.
func TestGatewayResumeQuietShard(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) {
		o.EventRetention = time.Hour
		o.TokenTTL = 100 * time.Hour
	})
	e.clock.freeze()
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	g := e.groupsOnShards(bot, 2)
	e.createGroup("alice", g[0], "bot1")
	e.createGroup("alice", g[1], "bot1")
	tok := e.token(bot)

	quiet := e.dial()
	sess, s := quiet.identify(tok, intentsGroup, [2]int{0, 2})
	busy := e.dial()
	busy.identify(tok, intentsGroup, [2]int{1, 2})
	for range 3 {
		e.mention("alice", g[1], "@QunBot busy", "bot1")
		busy.event("GROUP_AT_MESSAGE_CREATE")
	}

	// Shard 0 stays quiet past the retention, with heartbeats; then the
	// events it last saw are pruned.
	e.clock.advance(2 * time.Hour)
	quiet.sendRaw(fmt.Sprintf(`{"op":1,"d":%d}`, s))
	if f := quiet.read(); f.Op != opHeartbeatACK {
		t.Fatalf("heartbeat: %+v %s", f, f.D)
	}
	if err := e.srv.Prune(e.ctx()); err != nil {
		t.Fatal(err)
	}
	// The connection ends (the server closes it once it stored the session).
	quiet.sendRaw(`{"op":3}`)
	quiet.expectClose(closeUnknownOp)

	m := e.mention("alice", g[0], "@QunBot while you were away", "bot1")
	w := e.dial()
	w.resume(tok, sess, s)
	f := w.read()
	if f.Op != opDispatch || f.T != "GROUP_AT_MESSAGE_CREATE" {
		t.Fatalf("resume of the quiet shard: got %+v %s, want the missed mention", f, f.D)
	}
	var d atMessageData
	if err := json.Unmarshal(f.D, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != e.srv.msgID("bot1", m.UID) || *f.S != 7 {
		t.Errorf("replayed s=%d id %s, want s=7 and message %d", *f.S, d.ID, m.UID)
	}
	if f := w.event("RESUMED"); *f.S != 7 {
		t.Errorf("RESUMED s=%d, want 7", *f.S)
	}
}

// A client that did not get every frame sent (seq below what was sent) is
// replayed from its seq, not from the session's cursor.
func TestGatewayResumeBehindSent(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)
	w := e.dial()
	sess, s := w.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")
	e.mention("alice", "g1", "@QunBot one", "bot1")
	w.event("GROUP_ADD_ROBOT")
	w.event("GROUP_AT_MESSAGE_CREATE")
	w.sendRaw(`{"op":3}`)
	w.expectClose(closeUnknownOp) // the session now holds cursor 2, sent 2

	fs, last := e.replay(tok, sess, s) // as if both frames were lost on the way
	if len(fs) != 2 || *fs[0].S != 2 || *fs[1].S != 3 || last != 3 {
		t.Errorf("replay from %d: %d frames, RESUMED s=%d; want s 2 and 3, then 3", s, len(fs), last)
	}
}

// A session resumed on another node closes the connection that held it with
// 4006 at that connection's next heartbeat; the new holder stays.
func TestGatewayResumeOnAnotherNode(t *testing.T) {
	e := newEnv(t)
	tok := e.token(e.robot("bot1", "QunBot"))
	other := e.node()

	a := e.dial()
	sess, s := a.identify(tok, intentsGroup, [2]int{0, 1})
	b := e.dialAt(other)
	b.resume(tok, sess, s)
	b.event("RESUMED")

	a.sendRaw(`{"op":1,"d":0}`)
	a.expectClose(closeSessionInvalid)

	// A's last touch did not take the session back: B's heartbeats go on.
	for range 2 {
		b.sendRaw(`{"op":1,"d":0}`)
		if f := b.read(); f.Op != opHeartbeatACK {
			t.Fatalf("heartbeat of the new holder: %+v %s", f, f.D)
		}
	}
}

func TestGatewayIdentifyTimeout(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.IdentifyTimeout = 50 * time.Millisecond })
	e.dial().expectClose(closeSessionTimeout)
	if e.srv.opts.HeartbeatTimeout != DefaultHeartbeatTimeout {
		t.Errorf("heartbeat timeout %v changed", e.srv.opts.HeartbeatTimeout)
	}
	// The identify timeout never exceeds the heartbeat timeout.
	o := Options{HeartbeatTimeout: time.Second}.withDefaults()
	if o.IdentifyTimeout != time.Second || (Options{}).withDefaults().IdentifyTimeout != DefaultIdentifyTimeout {
		t.Errorf("identify timeout %v with a 1s heartbeat timeout", o.IdentifyTimeout)
	}
}

func TestGatewayMaxConns(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.MaxGatewayConns = 1 })
	tok := e.token(e.robot("bot1", "QunBot"))
	e.dial() // not identified: it holds its slot all the same

	r := e.doWith("GET", "/websocket", "", map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
	}, nil)
	if b := r.qqErr(t); r.status != 503 || b.Code != codeUnavailable || b.TraceID == "" || b.TraceID != r.header.Get(traceHeader) {
		t.Errorf("upgrade past the limit: %d %s", r.status, r.body)
	}
	_, resp, err := websocket.Dial(e.ctx(), "ws"+strings.TrimPrefix(e.hs.URL, "http")+"/websocket", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("a client past the limit: %v, %v", resp, err)
	}
	// REST is not limited by it.
	if r := e.do("GET", "/gateway", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("REST with the gateway full: %d", r.status)
	}
}

func TestTrackCountsConnections(t *testing.T) {
	s := &Server{opts: Options{MaxGatewayConns: 2}, conns: make(map[*conn]struct{})}
	a, b, c := &conn{}, &conn{}, &conn{}
	for _, step := range []struct {
		name string
		do   func() int
		want int
	}{
		{"first", func() int { return s.track(a) }, tracked},
		{"second", func() int { return s.track(b) }, tracked},
		{"over the limit", func() int { return s.track(c) }, trackFull},
		{"after one ended", func() int { s.untrack(a); return s.track(c) }, tracked},
		{"closed", func() int { s.closed = true; return s.track(a) }, trackShut},
	} {
		if got := step.do(); got != step.want {
			t.Errorf("%s: track = %d, want %d", step.name, got, step.want)
		}
	}
}

// A bot with a Wildfire callback has WILDFIRE_MESSAGE events in its log for
// its groups' messages; the gateway never sends them.
func TestGatewaySkipsWildfireEvents(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	if err := e.svc.SetCallback(e.ctx(), "bot1", "http://receiver.example/"); err != nil {
		t.Fatal(err)
	}
	e.users("alice")
	tok := e.token(bot)
	live := e.dial()
	sess, _ := live.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")           // ADD_ROBOT, then the 104 notification
	e.mention("alice", "g1", "@QunBot hi", "bot1") // the message, then AT_MESSAGE
	live.event("GROUP_ADD_ROBOT")
	live.event("GROUP_AT_MESSAGE_CREATE")
	fs, s := e.replay(tok, sess, 0)
	var types []string
	for _, f := range fs {
		types = append(types, f.T)
	}
	if strings.Join(types, ",") != "GROUP_ADD_ROBOT,GROUP_AT_MESSAGE_CREATE" || s != 5 { // 4 events; s is the log seq plus one
		t.Errorf("replay %v, RESUMED s=%d; want the two QQ events and s=5", types, s)
	}
}
