package qqbot

import (
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

type tokenAnswer struct {
	AccessToken *string `json:"access_token"`
	ExpiresIn   any     `json:"expires_in"`
	Code        int     `json:"code"`
	Message     string  `json:"message"`
}

func (e *env) tokenAnswer(body any) (response, tokenAnswer) {
	e.t.Helper()
	r := e.do("POST", "/app/getAppAccessToken", "", body)
	var a tokenAnswer
	r.json(e.t, &a)
	return r, a
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   int
	}{
		{"wrong secret", map[string]string{"appId": bot.AppID, "clientSecret": "nope"}, 401, codeAppInvalid},
		{"unknown app", map[string]string{"appId": "1", "clientSecret": bot.AppSecret}, 401, codeAppInvalid},
		{"no app", map[string]string{"clientSecret": bot.AppSecret}, 401, codeAppInvalid},
		{"not json", "appId=1", 400, codeInvalidRequest},
		{"app id an object", `{"appId":{},"clientSecret":"x"}`, 400, codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r, a := e.tokenAnswer(tc.body)
			if r.status != tc.status || a.Code != tc.code || a.AccessToken != nil || a.ExpiresIn != "0" {
				t.Errorf("got %d %s; want %d with code %d, expires_in \"0\" and no access_token", r.status, r.body, tc.status, tc.code)
			}
		})
	}
	e.t = t
	// The app id may come as a number.
	if r, a := e.tokenAnswer(`{"appId":` + bot.AppID + `,"clientSecret":"` + bot.AppSecret + `"}`); r.status != 200 || a.AccessToken == nil {
		t.Errorf("numeric appId: %d %s", r.status, r.body)
	}
}

func TestTokenLifetimeAndOverlap(t *testing.T) {
	e := newEnv(t)
	e.clock.freeze()
	bot := e.robot("bot1", "QunBot")
	creds := map[string]string{"appId": bot.AppID, "clientSecret": bot.AppSecret}
	get := func() (string, string) {
		t.Helper()
		r, a := e.tokenAnswer(creds)
		s, ok := a.ExpiresIn.(string)
		if r.status != 200 || a.AccessToken == nil || !ok {
			t.Fatalf("token: %d %s (expires_in must be a string)", r.status, r.body)
		}
		return *a.AccessToken, s
	}
	me := func(tok string) int {
		t.Helper()
		return e.do("GET", "/users/@me", "QQBot "+tok, nil).status
	}

	t1, exp := get()
	if exp != "7200" || len(t1) < 32 {
		t.Fatalf("first token %q expires_in %q, want 7200", t1, exp)
	}
	e.clock.advance(7100 * time.Second)
	if tk, exp := get(); tk != t1 || exp != "100" {
		t.Errorf("at 7100 s: %q %q, want the same token with 100 s left", tk, exp)
	}
	e.clock.advance(50 * time.Second) // 50 s left: inside the overlap
	t2, exp := get()
	if t2 == t1 || exp != "7200" {
		t.Errorf("in the overlap: %q %q, want a new token for 7200 s", t2, exp)
	}
	if s := me(t1); s != 200 {
		t.Errorf("old token in its last 50 s: %d", s)
	}
	if tk, _ := get(); tk != t2 {
		t.Errorf("next request got %q, want the new token %q", tk, t2)
	}
	e.clock.advance(51 * time.Second)
	r := e.do("GET", "/users/@me", "QQBot "+t1, nil)
	if b := r.qqErr(t); r.status != 401 || b.Code != codeTokenInvalid || b.ErrCode != codeTokenInvalid {
		t.Errorf("expired token: %d %s, want 401 code 11244", r.status, r.body)
	}
	if s := me(t2); s != 200 {
		t.Errorf("new token: %d", s)
	}
	// Expired tokens are pruned; the live one stays.
	if err := e.srv.Prune(e.ctx()); err != nil {
		t.Fatal(err)
	}
	if s := me(t2); s != 200 {
		t.Errorf("new token after prune: %d", s)
	}
}

func TestRESTAuth(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	other := e.robot("bot2", "Other")
	tok := e.token(bot)
	for _, tc := range []struct {
		name, auth, appid string
		status            int
	}{
		{"QQBot", "QQBot " + tok, "", 200},
		{"QQBot with X-Union-Appid", "QQBot " + tok, bot.AppID, 200},
		{"legacy Bot appid.token", "Bot " + bot.AppID + "." + tok, "", 200},
		{"legacy of another app", "Bot " + other.AppID + "." + tok, "", 401},
		{"X-Union-Appid of another app", "QQBot " + tok, other.AppID, 401},
		{"bare token", tok, "", 401},
		{"missing", "", "", 401},
		{"unknown", "QQBot nope", "", 401},
		{"Bearer", "Bearer " + tok, "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r := e.doWith("GET", "/users/@me", tc.auth, map[string]string{"X-Union-Appid": tc.appid}, nil)
			if r.status != tc.status {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tc.status)
			}
			if tc.status == 401 {
				if b := r.qqErr(t); b.Code != codeTokenInvalid {
					t.Errorf("code %d, want 11244", b.Code)
				}
				return
			}
			var me meResponse
			r.json(t, &me)
			if me.ID != bot.AppID || me.Username != "QunBot" || me.UnionOpenID != "" || !strings.Contains(string(r.body), `"union_user_account":""`) {
				t.Errorf("users/@me: %s", r.body)
			}
		})
	}
}

func TestRESTRateLimit(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.RESTRate = 3 })
	bot := e.robot("bot1", "QunBot")
	tok := e.token(bot) // counts against the app too
	for i := range 2 {
		if r := e.do("GET", "/gateway", "QQBot "+tok, nil); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := e.do("GET", "/gateway", "QQBot "+tok, nil)
	if b := r.qqErr(t); r.status != 429 || b.Code != codeRateLimited {
		t.Errorf("over the rate: %d %s, want 429", r.status, r.body)
	}
	e.clock.advance(time.Second)
	if r := e.do("GET", "/gateway", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("a second later: %d", r.status)
	}
}

// The app id is public: wrong secrets do not spend the app's REST budget;
// past TokenFailRate they get 429, and the right secret still works.
func TestTokenWrongSecrets(t *testing.T) {
	e := newEnv(t)
	e.clock.freeze()
	bot := e.robot("bot1", "QunBot")
	tok := e.token(bot)
	wrong := map[string]string{"appId": bot.AppID, "clientSecret": "wrong"}
	for i := range 300 {
		r, a := e.tokenAnswer(wrong)
		status, code := 401, codeAppInvalid
		if i >= DefaultTokenFailRate {
			status, code = 429, codeRateLimited
		}
		if r.status != status || a.Code != code || a.AccessToken != nil || a.ExpiresIn != "0" {
			t.Fatalf("wrong secret %d: %d %s, want %d with code %d", i, r.status, r.body, status, code)
		}
	}
	if r := e.do("GET", "/users/@me", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("the bot's REST call after 300 wrong secrets: %d %s", r.status, r.body)
	}
	if got := e.token(bot); got != tok {
		t.Errorf("the right secret got token %q, want %q", got, tok)
	}
	// Another app's failures are its own.
	other := e.robot("bot2", "Other")
	if r, a := e.tokenAnswer(map[string]string{"appId": other.AppID, "clientSecret": "wrong"}); r.status != 401 || a.Code != codeAppInvalid {
		t.Errorf("another app's wrong secret: %d %s, want 401", r.status, r.body)
	}
	// The failure budget refills.
	e.clock.advance(time.Minute)
	if r, a := e.tokenAnswer(wrong); r.status != 401 || a.Code != codeAppInvalid {
		t.Errorf("a minute later: %d %s, want 401", r.status, r.body)
	}
}
