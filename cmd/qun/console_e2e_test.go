package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// consoleWait bounds the whole browser test: generous, since CI runs on a
// shared 2-core machine; every step waits for a DOM condition, never a sleep.
const consoleWait = 4 * time.Minute

// screenshotsVar names the variable that makes the browser test write its
// screenshots to docs/console/.
const screenshotsVar = "QUN_CONSOLE_SCREENSHOTS"

// chromium returns Chromium's path. Without it the test is skipped, saying
// why, except in CI (CI set), where it fails: CI must run it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); the console's browser test needs it (with CI set it fails instead)")
	return ""
}

// browserCtx starts a headless Chromium with a new empty profile.
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), consoleWait)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// run runs browser actions, failing the test with what step failed.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v (at %s)", step, err, loc)
	}
}

// browserValue runs an action that returns a value, failing the test with what step failed.
func browserValue[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v (at %s)", step, err, loc)
	}
	return v
}

// waitText waits until the element sel contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	js := `(() => { const e = document.querySelector(` + quoteJS(sel) + `); return !!e && e.textContent.includes(` + quoteJS(want) + `); })()`
	return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))
}

// submitAndReload clicks sel, a form's button, and waits until the next page
// has loaded: the old page's marker is gone.
func submitAndReload(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`window.qunOldPage = true; true`),
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// An evaluation the navigation interrupts fails: ask again until the new page answers.
			for {
				loaded, err := chromedp.Evaluate[bool](`!window.qunOldPage && document.readyState === "complete"`)(ctx, t)
				if err == nil && loaded {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("the next page did not load: %w (last: %v)", ctx.Err(), err)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}))
}

func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// screenshot saves the page as docs/console/NAME.png when QUN_CONSOLE_SCREENSHOTS is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv(screenshotsVar) == "" {
		return
	}
	png := browserValue(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser drives the console in a real headless Chromium: the
// operator signs in, creates a bot and a group with it, sets the bot's
// ice-breaker and sees it posted when the bot joins; in the playground an
// @-message is answered by a real botgo bot and the answer appears without
// a reload; the bot's developer signs in and is refused another bot's page.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	bin := buildExample(t, t.TempDir(), "botgo-bot")
	for _, u := range []string{"alice", "bob"} {
		if _, err := tm.Service.PutUser(context.Background(), group.User{ID: u, Name: u, DisplayName: strings.ToUpper(u[:1]) + u[1:]}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := tm.Service.CreateRobot(context.Background(), group.RobotInput{User: group.User{ID: "other", DisplayName: "Other"}, Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	base := tm.Admin

	run(t, ctx, "sign-in page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin-operator")))
	screenshot(t, ctx, "signin")
	run(t, ctx, "operator signs in",
		chromedp.SendKeys(chromedp.CSS("#secret"), tm.Secret),
		chromedp.Click(chromedp.CSS("#signin-operator-submit")),
		chromedp.WaitVisible(chromedp.CSS("#overview")),
		waitText("#health", "ok"))
	// The overview's screenshot is TestConsoleGroupsInBrowser's: it shows events/s.

	run(t, ctx, "create a bot",
		chromedp.Navigate(base+"/bots"),
		chromedp.WaitVisible(chromedp.CSS("#create-bot")),
		chromedp.SendKeys(chromedp.CSS("#bot-id"), "echo"),
		chromedp.SendKeys(chromedp.CSS("#bot-name"), "echo"),
		chromedp.SendKeys(chromedp.CSS("#bot-display-name"), "Echo"),
		chromedp.SendKeys(chromedp.CSS("#bot-owner"), "alice"),
		chromedp.Click(chromedp.CSS("#create-bot-submit")),
		chromedp.WaitVisible(chromedp.CSS("#ice-breaker")),
		waitText("#bot-title", "Echo"))

	const ice = "Hi, I am Echo. Mention me."
	run(t, ctx, "reveal the credentials",
		chromedp.Click(chromedp.CSS("#credentials summary")),
		chromedp.WaitVisible(chromedp.CSS("#cred-app-secret")))
	appID := browserValue(t, ctx, "read the app id", chromedp.Text(chromedp.CSS("#cred-app-id")))
	appSecret := browserValue(t, ctx, "read the app secret", chromedp.Text(chromedp.CSS("#cred-app-secret")))
	if appID == "" || appSecret == "" {
		t.Fatalf("credentials %q %q", appID, appSecret)
	}
	run(t, ctx, "edit the ice-breaker",
		chromedp.Click(chromedp.CSS("#ice-enabled")),
		chromedp.SendKeys(chromedp.CSS("#ice-text"), ice),
		waitText("#ice-preview", ice))
	screenshot(t, ctx, "bot")
	run(t, ctx, "save the ice-breaker", chromedp.Click(chromedp.CSS("#ice-save")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if _, b, err := tm.Service.GetRobot(context.Background(), "echo"); err != nil || !b.IceBreaker.Enabled {
		t.Fatalf("ice-breaker not saved: %+v %v", b.IceBreaker, err)
	}
	run(t, ctx, "bots list", chromedp.Navigate(base+"/bots"), waitText("#bots", "echo"))
	screenshot(t, ctx, "bots")

	run(t, ctx, "create a group with the bot",
		chromedp.Navigate(base+"/groups"),
		chromedp.WaitVisible(chromedp.CSS("#create-group")),
		chromedp.SendKeys(chromedp.CSS("#group-id"), "team"),
		chromedp.SendKeys(chromedp.CSS("#group-name"), "Team"),
		chromedp.SendKeys(chromedp.CSS("#group-owner"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#group-members"), "bob echo"),
		chromedp.Click(chromedp.CSS("#create-group-submit")),
		chromedp.WaitVisible(chromedp.CSS("#members")),
		waitText("#timeline", "created the group Team"),
		waitText("#timeline", ice),
		waitText("#members", "echo"))
	screenshot(t, ctx, "group")
	run(t, ctx, "groups list", chromedp.Navigate(base+"/groups"), waitText("#groups", "team"))
	screenshot(t, ctx, "groups")

	bot := startExample(t, bin, []string{"QUN_URL=" + tm.Public, "BOT_APP_ID=" + appID, "BOT_APP_SECRET=" + appSecret})
	bot.waitLine(regexp.MustCompile(`ready as Echo \(app ` + appID + `\)`))

	run(t, ctx, "playground: @-message answered live",
		chromedp.Navigate(base+"/playground?group=team&user=alice"),
		chromedp.WaitVisible(chromedp.CSS("#play-send")),
		waitText("#timeline", ice),
		chromedp.Evaluate[chromedp.Void](`window.qunNoReload = "still here"; true`),
		chromedp.SetValue(chromedp.CSS("#play-mention"), "echo"),
		chromedp.SendKeys(chromedp.CSS("#play-text"), "@Echo ping"),
		chromedp.Click(chromedp.CSS("#play-send-submit")),
		waitText("#timeline", "@Echo ping"),
		waitText("#timeline", "pong"))
	if !browserValue(t, ctx, "the page is the same", chromedp.Evaluate[bool](`window.qunNoReload === "still here"`)) {
		t.Fatal("the page reloaded: the reply should arrive live")
	}
	screenshot(t, ctx, "playground")
	run(t, ctx, "playground: proactive messages off",
		chromedp.SendKeys(chromedp.CSS("#play-proactive-bot"), "echo"),
		submitAndReload("#play-proactive-off"),
		waitText("#flash", "Saved"))
	if ok, err := proactive(tm, "team", "echo"); err != nil || ok {
		t.Fatalf("proactive after off: %v %v", ok, err)
	}
	run(t, ctx, "playground: proactive messages on",
		chromedp.SendKeys(chromedp.CSS("#play-proactive-bot"), "echo"),
		submitAndReload("#play-proactive-on"),
		waitText("#flash", "Saved"))
	if ok, err := proactive(tm, "team", "echo"); err != nil || !ok {
		t.Fatalf("proactive after on: %v %v", ok, err)
	}

	run(t, ctx, "operator signs out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-bot")))
	run(t, ctx, "bot developer signs in",
		chromedp.SendKeys(chromedp.CSS("#app_id"), appID),
		chromedp.SendKeys(chromedp.CSS("#app_secret"), appSecret),
		chromedp.Click(chromedp.CSS("#signin-bot-submit")),
		chromedp.WaitVisible(chromedp.CSS("#ice-breaker")),
		waitText("#bot-groups", "team"))
	run(t, ctx, "another bot's page is refused",
		chromedp.Navigate(base+"/bots/other"),
		waitText("#error", "may not"))
	screenshot(t, ctx, "refused")
	run(t, ctx, "the switch to Chinese",
		chromedp.Navigate(base+"/lang/zh?back=/bots/echo"),
		waitText("#ice-breaker", "进群破冰消息"))
	screenshot(t, ctx, "bot-zh")
	body := browserValue(t, ctx, "read the refusal", chromedp.Text(chromedp.CSS("body")))
	if strings.Contains(body, "Other") {
		t.Errorf("the refusal shows the other bot: %s", body)
	}
}

// proactive reads whether botID may send proactive messages to groupID.
func proactive(tm *apptest.Main, groupID, botID string) (bool, error) {
	var ok bool
	err := tm.Store.View(context.Background(), func(r group.Reader) (err error) {
		ok, err = r.Proactive(groupID, botID)
		return err
	})
	return ok, err
}
