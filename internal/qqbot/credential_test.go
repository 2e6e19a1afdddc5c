package qqbot

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// A reset appSecret locks out the old secret and every token issued with
// it, a token this node has cached included; the new secret works.
func TestResetAppSecretRevokesTokens(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	old := e.token(bot)
	if st := e.do("GET", "/users/@me", "QQBot "+old, nil).status; st != 200 {
		t.Fatalf("/users/@me with the token: %d", st) // now cached
	}
	reset, err := e.svc.ResetSecrets(e.ctx(), bot.UserID, group.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/users/@me", "QQBot "+old, nil); r.status != 401 || r.qqErr(t).Code != codeTokenInvalid {
		t.Errorf("the old token after the reset: %d %s, want 401 with code %d", r.status, r.body, codeTokenInvalid)
	}
	if r, a := e.tokenAnswer(map[string]string{"appId": bot.AppID, "clientSecret": bot.AppSecret}); r.status != 401 || a.Code != codeAppInvalid {
		t.Errorf("the old secret: %d %s, want 401 with code %d", r.status, r.body, codeAppInvalid)
	}
	fresh := e.token(reset)
	if fresh == old {
		t.Error("the new secret got the revoked token back")
	}
	if st := e.do("GET", "/users/@me", "QQBot "+fresh, nil).status; st != 200 {
		t.Errorf("/users/@me with the new token: %d", st)
	}
}

// New intents apply to the next identify, even with a token this node has
// cached; a connection identified before keeps its own.
func TestSetIntentsNextIdentify(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	tok := e.token(bot)
	live := e.dial()
	sessionID, seq := live.identify(tok, intentGroupAndC2C|intentGuilds, [2]int{0, 1}) // the token is cached now
	if _, err := e.svc.SetIntents(e.ctx(), bot.UserID, intentGroupAndC2C); err != nil {
		t.Fatal(err)
	}
	refused := e.dial()
	refused.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + tok, "intents": intentGroupAndC2C | intentGuilds, "shard": [2]int{0, 1}}})
	refused.expectClose(closeDisallowedIntents)
	e.dial().identify(tok, intentGroupAndC2C, [2]int{0, 1})

	e.users("alice")
	e.createGroup("alice", "g1", "bot1")
	live.event("GROUP_ADD_ROBOT") // the first connection is still served

	// Reconnected, its session cannot be resumed with GUILDS: op 9, so the
	// client identifies anew and is checked.
	_ = live.c.CloseNow()
	resumed := e.dial()
	resumed.send(map[string]any{"op": opResume, "d": map[string]any{"token": "QQBot " + tok, "session_id": sessionID, "seq": seq}})
	if f := resumed.read(); f.Op != opInvalidSession {
		t.Fatalf("resume of a session with withdrawn intents: %+v %s, want op 9", f, f.D)
	}
	resumed.expectClose(closeSessionInvalid)
}
