package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

var newAppSecret = regexp.MustCompile(`id="new-app-secret">([^<]+)<`)

// A bot developer resets the appSecret: the new one is shown once, the
// browser that reset it stays signed in, another browser signed in with the
// old secret is signed out, and the old secret signs no one in.
func TestResetAppSecret(t *testing.T) {
	e := newEnv(t)
	_, bot, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "mine", DisplayName: "Mine"}})
	if err != nil {
		t.Fatal(err)
	}
	dev, other := e.browser(), e.browser()
	for _, b := range []*browser{dev, other} {
		wantStatus(t, "bot sign-in", b.signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {bot.AppSecret}}), http.StatusSeeOther)
	}
	a := dev.post("/bots/mine", "/bots/mine/reset", url.Values{"which": {"app"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/bots/mine#new-secrets" {
		t.Fatalf("reset: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	_, after, err := e.svc.GetRobot(t.Context(), "mine")
	if err != nil {
		t.Fatal(err)
	}
	if after.AppSecret == bot.AppSecret || after.Secret != bot.Secret {
		t.Fatalf("after the reset: appSecret %q (was %q), secret %q (was %q)", after.AppSecret, bot.AppSecret, after.Secret, bot.Secret)
	}
	page := dev.do("GET", "/bots/mine", nil)
	wantStatus(t, "the bot page after the reset", page, http.StatusOK)
	if m := newAppSecret.FindStringSubmatch(page.body); m == nil || m[1] != after.AppSecret {
		t.Errorf("the page shows the new appSecret %v, want %q", m, after.AppSecret)
	}
	if again := dev.do("GET", "/bots/mine", nil); newAppSecret.MatchString(again.body) {
		t.Error("the new appSecret is shown a second time")
	}
	if a := other.do("GET", "/bots/mine", nil); a.status != http.StatusSeeOther || a.header.Get("Location") != "/signin" {
		t.Errorf("the other browser after the reset: HTTP %d Location %q, want sent to sign in", a.status, a.header.Get("Location"))
	}
	wantStatus(t, "sign-in with the old appSecret", e.browser().signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {bot.AppSecret}}), http.StatusUnauthorized)
	wantStatus(t, "sign-in with the new appSecret", e.browser().signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {after.AppSecret}}), http.StatusSeeOther)

	// A reset elsewhere (the Admin API, the CLI) signs the developer out too.
	if _, err := e.svc.ResetSecrets(t.Context(), "mine", group.AppSecret); err != nil {
		t.Fatal(err)
	}
	if a := dev.do("GET", "/bots/mine", nil); a.status != http.StatusSeeOther {
		t.Errorf("after a reset through the service: HTTP %d, want sent to sign in", a.status)
	}
}

func TestResetRobotSecretAndIntents(t *testing.T) {
	e := newEnv(t)
	_, bot, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "mine"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "theirs"}}); err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.signInOperator()
	wantStatus(t, "the bot page", op.do("GET", "/bots/mine", nil), http.StatusOK,
		`id="intent-25" checked`, `id="intent-0" checked`, `id="intents-default"`, `id="confirm-reset-robot"`)
	wantStatus(t, "reset the robot secret", op.post("/bots/mine", "/bots/mine/reset", url.Values{"which": {"robot"}}), http.StatusSeeOther)
	_, after, err := e.svc.GetRobot(t.Context(), "mine")
	if err != nil {
		t.Fatal(err)
	}
	if after.Secret == bot.Secret || after.AppSecret != bot.AppSecret {
		t.Fatalf("robot reset changed secret %v, appSecret %v", after.Secret != bot.Secret, after.AppSecret != bot.AppSecret)
	}
	wantStatus(t, "the page after the reset", op.do("GET", "/bots/mine", nil), http.StatusOK, `id="new-robot-secret">`+after.Secret+`<`)

	a := op.post("/bots/mine", "/bots/mine/intents", url.Values{"intent": {"33554432", "1"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/bots/mine?flash=intents_saved#intents" {
		t.Fatalf("save intents: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	if _, b, _ := e.svc.GetRobot(t.Context(), "mine"); b.Intents != 1<<25|1 {
		t.Errorf("stored intents %#x, want %#x", b.Intents, 1<<25|1)
	}
	page := op.do("GET", "/bots/mine?flash=intents_saved", nil)
	wantStatus(t, "the page after saving", page, http.StatusOK, `id="intent-25" checked`, `id="intent-0" checked`, "Intents saved.")
	if regexp.MustCompile(`id="intent-30" checked|id="intents-default"`).MatchString(page.body) {
		t.Error("the page still shows the default set")
	}
	wantStatus(t, "none checked", op.post("/bots/mine", "/bots/mine/intents", url.Values{}), http.StatusSeeOther)
	if _, b, _ := e.svc.GetRobot(t.Context(), "mine"); b.Intents != 0 {
		t.Errorf("stored intents %#x after none checked, want 0", b.Intents)
	}

	// Bad input gets a readable message and changes nothing.
	for _, tt := range []struct {
		what, path string
		form       url.Values
		status     int
		says       string
	}{
		{"no which", "/bots/mine/reset", url.Values{}, http.StatusBadRequest, "Say which secret to reset"},
		{"unknown which", "/bots/mine/reset", url.Values{"which": {"all"}}, http.StatusBadRequest, "Say which secret to reset"},
		{"unknown bot", "/bots/nobody/reset", url.Values{"which": {"app"}}, http.StatusNotFound, "nobody"},
		{"an intent not a number", "/bots/mine/intents", url.Values{"intent": {"many"}}, http.StatusBadRequest, "Not an intent bit: &#34;many&#34;"},
		{"two bits in one", "/bots/mine/intents", url.Values{"intent": {"3"}}, http.StatusBadRequest, "Not an intent bit"},
		{"an unknown bit", "/bots/mine/intents", url.Values{"intent": {"65536"}}, http.StatusBadRequest, "has bits that name no intent"},
		{"intents of an unknown bot", "/bots/nobody/intents", url.Values{"intent": {"1"}}, http.StatusNotFound, "nobody"},
	} {
		wantStatus(t, tt.what, op.post("/bots/mine", tt.path, tt.form), tt.status, `id="error"`, tt.says)
	}
	// Without the CSRF token, or from a bot developer of another bot: refused.
	wantStatus(t, "reset without CSRF", op.do("POST", "/bots/mine/reset", url.Values{"which": {"app"}}), http.StatusForbidden, "The form expired")
	wantStatus(t, "intents with a wrong CSRF", op.do("POST", "/bots/mine/intents", url.Values{"csrf": {"forged"}, "intent": {"1"}}), http.StatusForbidden, "The form expired")
	dev := e.browser()
	wantStatus(t, "bot sign-in", dev.signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {bot.AppSecret}}), http.StatusSeeOther)
	wantStatus(t, "another bot's reset", dev.post("/bots/mine", "/bots/theirs/reset", url.Values{"which": {"app"}}), http.StatusForbidden, "may not")
	wantStatus(t, "another bot's intents", dev.post("/bots/mine", "/bots/theirs/intents", url.Values{"intent": {"1"}}), http.StatusForbidden, "may not")
	if _, b, _ := e.svc.GetRobot(t.Context(), "mine"); b.Intents != 0 || b.Secret != after.Secret || b.AppSecret != bot.AppSecret {
		t.Errorf("refused requests changed the bot: %+v", b)
	}
	if _, b, _ := e.svc.GetRobot(t.Context(), "theirs"); b.Intents != 0 {
		t.Errorf("a developer changed another bot's intents: %#x", b.Intents)
	}
}

// The sections speak Chinese too.
func TestCredentialsInChinese(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "mine"}}); err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.signInOperator()
	wantStatus(t, "the bot page in Chinese", op.do("GET", "/bots/mine", nil, "Accept-Language", "zh-CN"), http.StatusOK,
		"允许的 intents", "重置 appSecret", "确认重置")
	form := url.Values{"which": {"x"}, "csrf": {op.csrf("/bots/mine")}}
	wantStatus(t, "a bad which in Chinese", op.do("POST", "/bots/mine/reset", form, "Accept-Language", "zh-CN"), http.StatusBadRequest, "请指明要重置的密钥")
}

// The page offers the three resets, and "both" renews both secrets and shows
// both once.
func TestResetBothSecrets(t *testing.T) {
	e := newEnv(t)
	_, bot, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "mine"}})
	if err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.signInOperator()
	wantStatus(t, "the bot page", op.do("GET", "/bots/mine", nil), http.StatusOK,
		`id="confirm-reset-app"`, `id="confirm-reset-robot"`, `id="confirm-reset-both"`, "Reset both")
	wantStatus(t, "reset both", op.post("/bots/mine", "/bots/mine/reset", url.Values{"which": {"both"}}), http.StatusSeeOther)
	_, after, err := e.svc.GetRobot(t.Context(), "mine")
	if err != nil {
		t.Fatal(err)
	}
	if after.Secret == bot.Secret || after.AppSecret == bot.AppSecret {
		t.Fatalf("both reset changed secret %v, appSecret %v", after.Secret != bot.Secret, after.AppSecret != bot.AppSecret)
	}
	wantStatus(t, "the page after the reset", op.do("GET", "/bots/mine", nil), http.StatusOK,
		`id="new-robot-secret">`+after.Secret+`<`, `id="new-app-secret">`+after.AppSecret+`<`)
}
