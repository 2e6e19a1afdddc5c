package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// TestConsoleCredentialsInBrowser drives the bot page's credentials and
// intents sections in a real headless Chromium, signed in as the bot's
// developer: saving intents makes an identify beyond them refused; resetting
// the appSecret (after a confirm step) shows the new one once, keeps the
// developer signed in, and makes a token request with the old secret, and
// the token issued with it, fail while the new secret gets a token.
func TestConsoleCredentialsInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	_, bot, err := tm.Service.CreateRobot(context.Background(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}})
	if err != nil {
		t.Fatal(err)
	}
	node := &qunNode{Public: tm.Public}
	oldToken := mnToken(t, "a token with the first appSecret", tm.Public, bot.AppID, bot.AppSecret)
	base := tm.Admin

	run(t, ctx, "the bot developer signs in",
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#signin-bot")),
		chromedp.SendKeys(chromedp.CSS("#app_id"), bot.AppID),
		chromedp.SendKeys(chromedp.CSS("#app_secret"), bot.AppSecret),
		chromedp.Click(chromedp.CSS("#signin-bot-submit")),
		chromedp.WaitVisible(chromedp.CSS("#intents")),
		waitText("#intents-default", "default set"))

	// The default set is checked; leave GROUP_AND_C2C_EVENT alone.
	run(t, ctx, "allow only GROUP_AND_C2C_EVENT",
		chromedp.Click(chromedp.CSS("#intent-0")),
		chromedp.Click(chromedp.CSS("#intent-1")),
		chromedp.Click(chromedp.CSS("#intent-30")),
		submitAndReload("#intents-save"),
		waitText("#flash", "Intents saved"))
	if _, b, err := tm.Service.GetRobot(context.Background(), "echo"); err != nil || b.Intents != 1<<25 {
		t.Fatalf("stored intents %#x, %v; want 1<<25", b.Intents, err)
	}
	if checked := browserValue(t, ctx, "read the boxes", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#intents input:checked')].map(e => e.id)`)); len(checked) != 1 || checked[0] != "intent-25" {
		t.Errorf("checked after saving: %v, want [intent-25]", checked)
	}
	identifyRefused(t, "identify asking for GUILDS too", node, oldToken, 1<<25|1)
	mnRawDial(t, "identify within the intents", node).identify(oldToken)

	run(t, ctx, "reset the appSecret, confirmed",
		chromedp.Click(chromedp.CSS("#credentials summary")),
		chromedp.Click(chromedp.CSS("#reset-app summary")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-reset-app")),
		submitAndReload("#confirm-reset-app"),
		chromedp.WaitVisible(chromedp.CSS("#new-app-secret")))
	newSecret := browserValue(t, ctx, "read the new appSecret", chromedp.Text(chromedp.CSS("#new-app-secret")))
	if _, b, err := tm.Service.GetRobot(context.Background(), "echo"); err != nil || newSecret == bot.AppSecret || b.AppSecret != newSecret {
		t.Fatalf("the page shows %q; stored %q (%v), old %q", newSecret, b.AppSecret, err, bot.AppSecret)
	}
	run(t, ctx, "reveal the credentials and a reset's confirm step",
		chromedp.Click(chromedp.CSS("#credentials summary")),
		chromedp.WaitVisible(chromedp.CSS("#cred-app-secret")),
		chromedp.Click(chromedp.CSS("#reset-robot summary")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-reset-robot")))
	screenshot(t, ctx, "bot-credentials")

	if st, body := tokenStatus(t, tm.Public, bot.AppID, bot.AppSecret); st != http.StatusUnauthorized {
		t.Errorf("a token request with the old appSecret: %d %s, want 401", st, body)
	}
	req, _ := http.NewRequest(http.MethodGet, tm.Public+"/users/@me", nil)
	req.Header.Set("Authorization", "QQBot "+oldToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token issued with the old appSecret: %d %s, want 401", resp.StatusCode, raw)
	}
	newToken := mnToken(t, "a token with the new appSecret", tm.Public, bot.AppID, newSecret)
	mnWantMe(t, "the new token", tm.Public, newToken, bot.AppID)

	// The browser that reset it stays signed in; the secret is not shown again.
	run(t, ctx, "the bot page again", chromedp.Navigate(base+"/bots/echo"), chromedp.WaitVisible(chromedp.CSS("#intents")))
	if shown := browserValue(t, ctx, "look for the notice", chromedp.Evaluate[bool](`!!document.getElementById("new-secrets")`)); shown {
		t.Error("the new appSecret is shown a second time")
	}
}
