package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/token"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// liveBot is a raw gateway client that stays connected: it identifies, then
// sends a heartbeat every liveBotBeat until the test ends, so that the
// session is touched (written with its progress) as a real bot's is.
type liveBot struct {
	t         *testing.T
	conn      *websocket.Conn
	sessionID string
	ready     uint32             // READY's s
	events    chan mnRawFrame    // the dispatches after READY
	stop      context.CancelFunc // ends the heartbeats
}

// liveBotBeat is how often a liveBot sends a heartbeat: well inside the
// heartbeat timeout the tests give, so the connection lives as long as the test.
const liveBotBeat = 200 * time.Millisecond

// dialLiveBot connects to tm's gateway as the bot appID and identifies on shard 0 of 1.
func dialLiveBot(t *testing.T, tm *apptest.Main, appID, appSecret string) *liveBot {
	t.Helper()
	c := mnRawDial(t, "live bot", &qunNode{Public: tm.Public})
	sid, s := c.identify(mnToken(t, "live bot token", tm.Public, appID, appSecret))
	ctx, stop := context.WithCancel(context.Background())
	b := &liveBot{t: t, conn: c.conn, sessionID: sid, ready: s, events: make(chan mnRawFrame, 100), stop: stop}
	t.Cleanup(stop)
	go func() { // the one reader: dispatches to events, ACKs dropped
		defer close(b.events)
		for {
			_, raw, err := c.conn.Read(context.Background())
			if err != nil {
				return
			}
			var f mnRawFrame
			if json.Unmarshal(raw, &f) == nil && f.Op == 0 {
				b.events <- f
			}
		}
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(liveBotBeat):
			}
			if c.conn.Write(ctx, websocket.MessageText, []byte(`{"op":1,"d":null}`)) != nil {
				return
			}
		}
	}()
	return b
}

// event waits for the next dispatch and checks its type.
func (b *liveBot) event(typ string) mnRawFrame {
	b.t.Helper()
	select {
	case f, ok := <-b.events:
		if !ok || f.T != typ {
			b.t.Fatalf("live bot: got %+v (open %v), want %s", f, ok, typ)
		}
		return f
	case <-time.After(mnWait):
		b.t.Fatalf("live bot: no %s within %v", typ, mnWait)
		panic("unreachable")
	}
}

// close ends the connection cleanly.
func (b *liveBot) close() {
	b.stop()
	if err := b.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		b.t.Logf("live bot close: %v", err)
	}
}

// deliveryConfig is a test config for the outbound sections: a failed
// delivery is retried only after an hour, so only a redeliver sends it
// again soon; sessions are touched every second (a quarter of the
// retention), so that the last seq a listing shows follows the connection.
func deliveryConfig(t *testing.T) app.Config {
	cfg := apptest.Config(t, t.TempDir())
	cfg.DeliveryRetryMin, cfg.DeliveryRetryMax, cfg.DeliveryTimeout = time.Hour, time.Hour, 5*time.Second
	cfg.SessionRetention, cfg.HeartbeatTimeout = 4*time.Second, 4*time.Second
	return cfg
}

// nodeID returns the node's name that qun serve keeps in its data
// directory (README: node-id), which it records in its gateway sessions.
func nodeID(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "node-id"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		t.Fatalf("the node's name in %s: %q, %v", data, b, err)
	}
	return strings.TrimSpace(string(b))
}

// waitFor calls get until ok accepts what it returns, failing the test
// after mnWait with the last value.
func waitFor[T any](t *testing.T, what string, get func() (T, error), ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(mnWait)
	for {
		v, err := get()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never got there: %+v", what, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSessions polls the Admin API's listing of botID's sessions until ok.
func waitSessions(t *testing.T, what string, admin *client.Client, botID string, ok func([]client.Session) bool) []client.Session {
	t.Helper()
	return waitFor(t, what, func() ([]client.Session, error) { return admin.Sessions(t.Context(), botID, 0) }, ok)
}

// TestRobotSessions: the Admin API and the CLI list a bot's gateway
// sessions from the store, with the node (this node's name, as the delivery
// leases show it), the shard, the last s sent, and live until the
// connection ends; and the console's webhook form shows what validation
// (op 13) answered, against the real wiring.
func TestRobotSessions(t *testing.T) {
	cfg := deliveryConfig(t)
	tm := apptest.Start(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	_, echo, err := tm.Service.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tm.Service.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "other"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Service.PutUser(t.Context(), group.User{ID: "alice", Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	node := nodeID(t, cfg.Data)

	bot := dialLiveBot(t, tm, echo.AppID, echo.AppSecret)
	if _, err := tm.Service.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g1", Owner: "alice"},
		Members: []group.Member{{UserID: "echo"}}}); err != nil {
		t.Fatal(err)
	}
	ev := bot.event("GROUP_ADD_ROBOT")
	ss := waitSessions(t, "the event's s stored", admin, "echo", func(ss []client.Session) bool {
		return len(ss) == 1 && ss[0].LastSeq == int64(ev.S)
	})
	if s := ss[0]; s.SessionID != bot.sessionID || !s.Live || s.Node != node || s.Shard != [2]int{0, 1} ||
		s.Intents != int64(dto.IntentGroupMessages) || s.ConnectedAt == 0 || s.UpdatedAt < s.ConnectedAt {
		t.Fatalf("session %+v; want %s live on %s", s, bot.sessionID, node)
	}

	// The CLI prints the same listing.
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_ADDR": strings.TrimPrefix(tm.Admin, "http://"), "QUN_DATA": cfg.Data}}
	var listed []client.Session
	e.okJSON(&listed, "robot", "sessions", "echo")
	if len(listed) != 1 || listed[0].SessionID != bot.sessionID || listed[0].Node != node {
		t.Fatalf("qun robot sessions: %+v", listed)
	}
	e.fails(1, "qun robot sessions: code 253: not exist: bot \"nobody\" not found\n", "robot", "sessions", "nobody")
	if ss, err := admin.Sessions(t.Context(), "other", 0); err != nil || len(ss) != 0 {
		t.Errorf("another bot's sessions: %+v, %v", ss, err)
	}
	if code, err := admin.Call(t.Context(), "/admin/robot/sessions", map[string]any{"robotId": "echo", "limit": 101}, nil); code != 251 {
		t.Errorf("limit 101: code %d, %v; want 251", code, err)
	}

	bot.close()
	waitSessions(t, "the session after its connection ended", admin, "echo", func(ss []client.Session) bool {
		return len(ss) == 1 && !ss[0].Live
	})

	// The console's webhook form, on the real validation: a URL that
	// answers op 13 wrongly is refused with what it answered, readable.
	hc := consoleClient(t, tm)
	page := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, body := page(hc.Get(tm.Admin + "/bots/echo"))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, bot.sessionID) {
		t.Fatalf("bot page without a form or the session: %s", body)
	}
	for _, tc := range []struct{ url, says string }{
		{tm.Public + "/nothing-here", "webhook validation (op 13) failed: validation answered HTTP 404"},
		{"ftp://127.0.0.1/", "not http or https"},
	} {
		status, body := page(hc.PostForm(tm.Admin+"/bots/echo/webhook", url.Values{"csrf": {m[1]}, "url": {tc.url}}))
		if status != http.StatusBadRequest || !strings.Contains(body, tc.says) || !strings.Contains(body, `id="webhook-error"`) ||
			strings.Contains(body, "goroutine") {
			t.Errorf("webhook %s: HTTP %d: %s", tc.url, status, body)
		}
	}
	if status, body := page(hc.PostForm(tm.Admin+"/bots/nobody/webhook", url.Values{"csrf": {m[1]}, "url": {"http://x/"}})); status != http.StatusNotFound ||
		!strings.Contains(body, "nobody") {
		t.Errorf("webhook of an unknown bot: HTTP %d: %s", status, body)
	}
	if status, _ := page(hc.PostForm(tm.Admin+"/bots/echo/webhook", url.Values{"url": {"http://x/"}})); status != http.StatusForbidden {
		t.Errorf("webhook without the CSRF token: HTTP %d", status)
	}
}

// TestConsoleDeliveryInBrowser drives the bot page's outbound sections in a
// real headless Chromium: the operator sets the bot's webhook to botgo's own
// webhook.HTTPHandler through the console and sees it validated (after a
// URL that is refused, with the reason); a delivery fails and shows its
// error, then the operator redelivers it from the console and botgo gets
// it; a real gateway client is listed live with its shard and last seq.
func TestConsoleDeliveryInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	frames, _ := mnBotgoAttach(t)
	tm := apptest.Start(t, deliveryConfig(t))
	_, echo, err := tm.Service.CreateRobot(context.Background(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}, Owner: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Service.PutUser(context.Background(), group.User{ID: "alice", Name: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	rcv := newHookReceiver(t, &token.QQBotCredentials{AppID: echo.AppID, AppSecret: echo.AppSecret})
	base := tm.Admin

	run(t, ctx, "operator signs in",
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#secret"), tm.Secret),
		chromedp.Click(chromedp.CSS("#signin-operator-submit")),
		chromedp.WaitVisible(chromedp.CSS("#overview")))
	run(t, ctx, "the bot page's outbound sections",
		reloadUntil(base+"/bots/echo", "#webhook-status", "No webhook"),
		waitText("#stream-webhook", "off"),
		waitText("#sessions", "none"))

	// A URL that does not answer op 13 is refused, with why.
	run(t, ctx, "a refused webhook URL",
		chromedp.SendKeys(chromedp.CSS("#webhook-url"), tm.Public+"/nothing-here"),
		submitAndReload("#webhook-save"),
		waitText("#webhook-error", "validation answered HTTP 404"))
	// botgo's handler answers it: validated and saved.
	run(t, ctx, "botgo's webhook validated",
		chromedp.SetValue(chromedp.CSS("#webhook-url"), rcv.URL()),
		submitAndReload("#webhook-save"),
		waitText("#flash", "passed validation (op 13)"),
		waitText("#webhook-status", "Validated (op 13)"),
		waitText("#webhook-status", rcv.URL()),
		waitText("#stream-webhook", rcv.URL()))

	// A real gateway client, and an event that the webhook fails to take.
	bot := dialLiveBot(t, tm, echo.AppID, echo.AppSecret)
	rcv.failNext("500", 1_000)
	if _, err := tm.Service.CreateGroup(context.Background(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "team", Owner: "alice"},
		Members: []group.Member{{UserID: "echo"}}}); err != nil {
		t.Fatal(err)
	}
	ev := bot.event("GROUP_ADD_ROBOT")
	run(t, ctx, "the failed delivery shown",
		reloadUntil(base+"/bots/echo", "#stream-webhook .last-error", "HTTP 500"),
		waitText("#stream-webhook .pending", "1"),
		waitText("#attempts", "GROUP_ADD_ROBOT"),
		waitText("#attempts .status", "500"))
	select {
	case f := <-frames:
		t.Fatalf("botgo got %+v from a failing receiver", f)
	default:
	}

	// The receiver recovers; the retry is an hour away, the console's Redeliver sends it now.
	rcv.failNext("", 0)
	run(t, ctx, "redeliver from the console",
		waitText("#redeliver-webhook", "Redeliver"),
		submitAndReload("#redeliver-webhook"),
		waitText("#flash", "Redelivery started"))
	hf := &hookFrames{t: t, frames: frames}
	if got := hf.next("redelivered", "GROUP_ADD_ROBOT"); got.Seq != ev.S {
		t.Fatalf("botgo got s=%d from the redelivery, the gateway s=%d", got.Seq, ev.S)
	}
	// The session: live, on this node, shard 0 of 1, its last s as the gateway sent it.
	run(t, ctx, "delivered, and the session listed",
		reloadUntil(base+"/bots/echo", "#stream-webhook .pending", "0"),
		waitText("#attempts .status", "200"),
		reloadUntil(base+"/bots/echo", "#sessions .last-seq", fmt.Sprint(ev.S)),
		waitText("#sessions", bot.sessionID),
		waitText("#sessions .shard", "0/1"),
		waitText("#sessions", "live"))
	screenshot(t, ctx, "bot-delivery")
	last := browserValue(t, ctx, "the last error after the redelivery", chromedp.Text(chromedp.CSS("#stream-webhook .last-error")))
	if strings.Contains(last, "500") {
		t.Errorf("the webhook still shows its last error after it delivered: %q", last)
	}

	// The bot's developer sees the same sections, and not another bot's page.
	bot.close()
	run(t, ctx, "operator signs out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-bot")))
	run(t, ctx, "bot developer signs in",
		chromedp.SendKeys(chromedp.CSS("#app_id"), echo.AppID),
		chromedp.SendKeys(chromedp.CSS("#app_secret"), echo.AppSecret),
		submitAndReload("#signin-bot-submit"),
		waitText("#webhook-status", rcv.URL()),
		reloadUntil(base+"/bots/echo", "#sessions", "disconnected"))
	run(t, ctx, "in Chinese",
		reloadUntil(base+"/lang/zh?back=/bots/echo", "#deliveries", "重新投递"),
		reloadUntil(base+"/bots/echo", "#sessions", "网关会话"))
}

// reloadUntil loads page until the element sel contains want: what it shows
// is read when the page is served, and the outbound engine and the gateway
// record their progress on their own time.
func reloadUntil(page, sel, want string) chromedp.Action[chromedp.Void] {
	js := `(() => { const e = document.querySelector(` + quoteJS(sel) + `); return !!e && e.textContent.includes(` + quoteJS(want) + `); })()`
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			// A navigation or an evaluation that another navigation (a
			// redirect) interrupts fails: try again until the page answers.
			_, err := chromedp.Navigate(page)(ctx, t)
			ok := false
			if err == nil {
				ok, err = chromedp.Evaluate[bool](js)(ctx, t)
			}
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never showed %q in %s: %w (last: %v)", page, want, sel, ctx.Err(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
