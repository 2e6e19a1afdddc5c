package qqbot

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// The reference's verified vector: the op 13 answer's signature for a secret.
func TestWebhookKeyVector(t *testing.T) {
	key, err := webhookKey("DG5g3B4j9X2KOErG")
	if err != nil {
		t.Fatal(err)
	}
	const want = "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706"
	if got := hex.EncodeToString(ed25519.Sign(key, []byte("1725442341"+"Arq0D5A61EgUu4OxUvOp"))); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if _, err := webhookKey(""); err == nil {
		t.Fatal("a key from an empty secret")
	}
}

func TestCheckWebhookAck(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"", true},
		{"  \n", true},
		{`{"op":12,"d":0}`, true},
		{`{"d":0,"op":12}`, true},
		{`{"op":12,"d":1}`, false},
		{`{"op":11,"d":0}`, false},
		{`{"op":12}`, false},
		{`ok`, false},
		{`{}`, false},
	} {
		if err := CheckWebhookAck([]byte(tc.body)); (err == nil) != tc.ok {
			t.Errorf("CheckWebhookAck(%q) = %v, want ok %v", tc.body, err, tc.ok)
		}
	}
}

// TestWebhookValidation: the request is signed like every callback, with
// event_ts as its timestamp; only an answer signed with the bot's key passes.
func TestWebhookValidation(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "Bot")
	v, err := e.srv.NewWebhookValidation(e.ctx(), "bot1")
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Op int `json:"op"`
		D  struct {
			PlainToken string `json:"plain_token"`
			EventTS    string `json:"event_ts"`
		} `json:"d"`
	}
	if err := json.Unmarshal(v.Body, &req); err != nil || req.Op != 13 || req.D.PlainToken == "" || req.D.EventTS != v.Header.Get(headerTimestamp) {
		t.Fatalf("validation request %s, headers %v: %v", v.Body, v.Header, err)
	}
	key, _ := webhookKey(bot.AppSecret)
	if sig, _ := hex.DecodeString(v.Header.Get(headerSignature)); !ed25519.Verify(key.Public().(ed25519.PublicKey), append([]byte(req.D.EventTS), v.Body...), sig) {
		t.Fatal("the validation request's signature does not verify")
	}
	if v.Header.Get(headerAppID) != bot.AppID || v.Header.Get("User-Agent") != "QQBot-Callback" {
		t.Fatalf("headers %v", v.Header)
	}
	answer := func(secret, token string) []byte {
		k, _ := webhookKey(secret)
		b, _ := json.Marshal(map[string]string{"plain_token": token, "signature": hex.EncodeToString(ed25519.Sign(k, []byte(req.D.EventTS+token)))})
		return b
	}
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		err    string
	}{
		{"right", 200, answer(bot.AppSecret, req.D.PlainToken), ""},
		{"other key", 200, answer("someone else's secret", req.D.PlainToken), "does not verify"},
		{"other token", 200, answer(bot.AppSecret, "x"+req.D.PlainToken), "plain_token"},
		{"status", 404, answer(bot.AppSecret, req.D.PlainToken), "HTTP 404"},
		{"empty", 200, nil, "empty body"},
		{"not JSON", 200, []byte("ok"), "not {plain_token"},
	} {
		err := v.Check(tc.status, tc.body)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
	if _, err := e.srv.NewWebhookValidation(e.ctx(), "nobody"); group.ErrorCode(err) != group.ENotExist {
		t.Errorf("validation of an unknown bot: %v", err)
	}
}
