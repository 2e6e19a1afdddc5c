package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// gatewayFrames identifies at tm's gateway as the bot appID and returns a
// reader of the raw frames it is sent after READY.
func gatewayFrames(t *testing.T, ctx context.Context, tm *apptest.Main, appID, appSecret string) func() []byte {
	t.Helper()
	resp, err := http.Post(tm.Public+"/app/getAppAccessToken", "application/json",
		strings.NewReader(`{"appId":"`+appID+`","clientSecret":"`+appSecret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(tm.Public, "http")+"/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	read := func() []byte {
		t.Helper()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("gateway read: %v", err)
		}
		return data
	}
	read() // Hello
	identify := `{"op":2,"d":{"token":"QQBot ` + tok.AccessToken + `","intents":33554432,"shard":[0,1]}}`
	if err := ws.Write(ctx, websocket.MessageText, []byte(identify)); err != nil {
		t.Fatal(err)
	}
	if ready := read(); !strings.Contains(string(ready), `"t":"READY"`) {
		t.Fatalf("want READY, got %s", ready)
	}
	return read
}

// signInOperator signs the browser in with the admin secret.
func signInOperator(t *testing.T, ctx context.Context, tm *apptest.Main) {
	t.Helper()
	run(t, ctx, "operator signs in",
		chromedp.Navigate(tm.Admin+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#signin-operator")),
		chromedp.SendKeys(chromedp.CSS("#secret"), tm.Secret),
		chromedp.Click(chromedp.CSS("#signin-operator-submit")),
		chromedp.WaitVisible(chromedp.CSS("#overview")))
}

// TestConsoleGroupsInBrowser drives the console's group search, member
// mute, the playground's raw bot events and the overview's events/s in a
// real headless Chromium, with a raw gateway client as the bot.
func TestConsoleGroupsInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	bg := context.Background()
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := tm.Service.PutUser(bg, group.User{ID: u, Name: u, DisplayName: strings.ToUpper(u[:1]) + u[1:]}); err != nil {
			t.Fatal(err)
		}
	}
	_, bot, err := tm.Service.CreateRobot(bg, group.RobotInput{User: group.User{ID: "echo", Name: "echo", DisplayName: "Echo"}, Owner: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []group.Group{{ID: "team", Name: "Team"}, {ID: "team-blue", Name: "Team blue"}, {ID: "tools", Name: "tools"}, {ID: "lower", Name: "team"}} {
		g.Owner = "alice"
		if _, err := tm.Service.CreateGroup(bg, group.Admin, group.CreateGroupInput{Group: g,
			Members: []group.Member{{UserID: "bob"}, {UserID: "carol"}, {UserID: "echo"}}}); err != nil {
			t.Fatal(err)
		}
	}
	signInOperator(t, ctx, tm)

	// The overview's events/s: the bot is sent events while the page
	// samples the counter (every 2 s), until it shows a rate above 0.
	stop := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		defer close(sent)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond): // a steady trickle, not a flood of the shared machine
			}
			if _, err := tm.Service.SendMessage(bg, group.SendInput{Sender: "bob", ConvType: group.ConvGroup, Target: "tools",
				Payload: group.Payload{Type: group.ContentText, SearchableContent: fmt.Sprintf("@Echo load %d", i),
					MentionedType: group.MentionSome, MentionedTarget: []string{"echo"}}}); err != nil {
				sent <- err
				return
			}
		}
	}()
	run(t, ctx, "the overview shows events/s",
		chromedp.Navigate(tm.Admin+"/"),
		chromedp.WaitVisible(chromedp.CSS("#stat-events_rate")),
		chromedp.Poll[chromedp.Void](`parseFloat(document.getElementById("stat-events_rate").textContent) > 0`))
	close(stop)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "overview")

	run(t, ctx, "search the groups by a name prefix",
		chromedp.Navigate(tm.Admin+"/groups"),
		chromedp.WaitVisible(chromedp.CSS("#search-groups")),
		chromedp.SendKeys(chromedp.CSS("#search-q"), "Team"),
		chromedp.SetValue(chromedp.CSS("#search-by"), "name"),
		submitAndReload("#search-submit"),
		waitText("#groups", "team-blue"))
	listed := browserValue(t, ctx, "read the groups found", chromedp.Text(chromedp.CSS("#groups")))
	for _, want := range []string{"Team", "Team blue"} {
		if !strings.Contains(listed, want) {
			t.Errorf("search Team by name lacks %s: %s", want, listed)
		}
	}
	for _, not := range []string{"tools", "lower"} { // another name; lower case
		if strings.Contains(listed, not) {
			t.Errorf("search Team by name lists %s: %s", not, listed)
		}
	}
	screenshot(t, ctx, "groups-search")

	run(t, ctx, "mute a member",
		chromedp.Navigate(tm.Admin+"/groups/team"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-member="bob"] button[value="mute"]`)),
		submitAndReload(`tr[data-member="bob"] button[value="mute"]`),
		waitText("#flash", "Saved"),
		waitText(`tr[data-member="bob"] .role`, "muted"),
		waitText("#timeline", "the server muted bob"))
	if m, err := tm.Service.GetMember(bg, group.Admin, "team", "bob"); err != nil || m.Type != group.MemberSilent {
		t.Fatalf("bob after mute: %+v, %v", m, err)
	}
	screenshot(t, ctx, "members-mute")

	frames := gatewayFrames(t, ctx, tm, bot.AppID, bot.AppSecret)
	run(t, ctx, "the playground follows the bot's events",
		chromedp.Navigate(tm.Admin+"/playground?group=team&user=alice"),
		chromedp.WaitVisible(chromedp.CSS("#play-send")),
		waitText("#bot-events-bot", "echo"),
		waitText("#bot-events", `"t":"GROUP_AT_MESSAGE_CREATE"`), // the latest, from before
		chromedp.Evaluate[chromedp.Void](`window.qunNoReload = "still here"; true`),
		chromedp.SetValue(chromedp.CSS("#play-mention"), "echo"),
		chromedp.SendKeys(chromedp.CSS("#play-text"), "@Echo what was I sent?"),
		chromedp.Click(chromedp.CSS("#play-send-submit")),
		waitText("#timeline", "@Echo what was I sent?"))
	var frame []byte
	for { // the load before it first, then this message's frame
		frame = frames()
		if strings.Contains(string(frame), `"content":" what was I sent?"`) {
			break
		}
	}
	run(t, ctx, "the frame the bot was sent appears live, byte for byte", waitText("#bot-events", string(frame)))
	if !browserValue(t, ctx, "the page is the same", chromedp.Evaluate[bool](`window.qunNoReload === "still here"`)) {
		t.Fatal("the page reloaded: the events should arrive live")
	}
	screenshot(t, ctx, "playground-events")

	fams := apptest.Scrape(t, tm.Admin)
	if n := apptest.Value(fams, "qun_requests_total", "door", "console", "route", "GET /groups/{id}"); n < 1 {
		t.Errorf("qun_requests_total of the console's group page: %v, want at least 1", n)
	}
	if n := apptest.Value(fams, "qun_delivery_backlog"); n != 0 {
		t.Errorf("qun_delivery_backlog with no webhook: %v, want 0", n)
	}
}
