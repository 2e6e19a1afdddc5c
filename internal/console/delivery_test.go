package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/group"
)

// outbound stands in for the wiring's deliveries and the QQ door's session
// listing, which need the outbound engine and the gateway: cmd/qun tests
// the console over the real ones. It keeps what it was asked, so that a test
// sees whether a refused form reached it, and refuses URLs as the real one
// does: an EInvalidParam error saying why.
type outbound struct {
	mu       sync.Mutex
	calls    []string
	hooks    map[string]group.Webhook
	sessions map[string][]group.SessionStatus
}

func newOutbound() *outbound {
	return &outbound{hooks: map[string]group.Webhook{}, sessions: map[string][]group.SessionStatus{}}
}

func (o *outbound) called(c string) {
	o.mu.Lock()
	o.calls = append(o.calls, c)
	o.mu.Unlock()
}

// changes returns the changing calls made so far.
func (o *outbound) changes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

func (o *outbound) SetWebhook(_ context.Context, botID, u string, intents int64) (group.Webhook, error) {
	o.called(fmt.Sprintf("SetWebhook %s %s %d", botID, u, intents))
	if strings.Contains(u, "refuse") {
		return group.Webhook{}, group.Errorf(group.EInvalidParam, "webhook validation (op 13) failed: <b>validation answered HTTP 404</b>")
	}
	w := group.Webhook{URL: u, Intents: intents, Validated: u != ""}
	o.mu.Lock()
	o.hooks[botID] = w
	o.mu.Unlock()
	return w, nil
}

func (o *outbound) Webhook(_ context.Context, botID string) (group.Webhook, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hooks[botID], nil
}

func (o *outbound) Deliveries(_ context.Context, botID string, limit int) (group.DeliveryReport, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rep := group.DeliveryReport{Webhook: group.StreamReport{URL: o.hooks[botID].URL, DeliveredSeq: 3, Pending: 2,
		LastError: "HTTP 500 from " + botID, NextAttempt: time.UnixMilli(1_800_000_000_000), Node: "node-a"}}
	rep.Attempts = []group.AttemptReport{{Kind: group.DeliveryWebhook, Seq: 4, Type: "GROUP_ADD_ROBOT", Status: 500,
		Error: "HTTP 500", At: time.UnixMilli(1_800_000_000_000), Duration: 3 * time.Millisecond}}
	return rep, nil
}

func (o *outbound) Redeliver(_ context.Context, botID string, kind group.DeliveryKind, fromSeq int64) error {
	o.called(fmt.Sprintf("Redeliver %s %s %d", botID, kind, fromSeq))
	return nil
}

func (o *outbound) Sessions(_ context.Context, botID string, limit int) ([]group.SessionStatus, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sessions[botID], nil
}

// newOutboundEnv is a console with the outbound sections, a bot "echo" and
// a bot "other", each with one session.
func newOutboundEnv(t *testing.T) (*env, *outbound, group.Bot) {
	t.Helper()
	o := newOutbound()
	e := newEnv(t, func(opt *console.Options) { opt.Deliveries, opt.Sessions = o, o })
	_, echo, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "other"}}); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_800_000_000_000)
	o.sessions["echo"] = []group.SessionStatus{{Session: group.Session{ID: "sess-echo", BotID: "echo", ShardID: 1, ShardCount: 2,
		Node: "node-echo", ConnectedAt: at, UpdatedAt: at, ConnID: "c"}, Live: true, LastSeq: 7}}
	o.sessions["other"] = []group.SessionStatus{{Session: group.Session{ID: "sess-other", BotID: "other", ShardCount: 1}}}
	return e, o, echo
}

func TestBotPageOutboundSections(t *testing.T) {
	e, _, _ := newOutboundEnv(t)
	b := e.browser()
	b.signInOperator()
	wantStatus(t, "bot page", b.do("GET", "/bots/echo", nil), http.StatusOK,
		`id="webhook"`, "No webhook", `id="stream-webhook"`, "HTTP 500 from echo", "node-a", "GROUP_ADD_ROBOT",
		"2027-01-15 08:00:00", "sess-echo", "node-echo", `<td class="shard">1/2</td>`, `<td class="last-seq">7</td>`, "live")
	if a := b.do("GET", "/bots/echo", nil); strings.Contains(a.body, "sess-other") {
		t.Errorf("echo's page lists another bot's session: %s", a.body)
	}

	// Without the interfaces the sections are left out, and the forms say so.
	plain := newEnv(t)
	if _, _, err := plain.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo"}}); err != nil {
		t.Fatal(err)
	}
	pb := plain.browser()
	pb.signInOperator()
	a := pb.do("GET", "/bots/echo", nil)
	wantStatus(t, "bot page without deliveries", a, http.StatusOK)
	if strings.Contains(a.body, `id="webhook"`) || strings.Contains(a.body, `id="sessions"`) {
		t.Errorf("a console without deliveries or sessions shows their sections: %s", a.body)
	}
	wantStatus(t, "webhook without deliveries", pb.post("/bots/echo", "/bots/echo/webhook", url.Values{"url": {"http://x/"}}),
		http.StatusNotImplemented, "delivers no webhooks")
}

func TestWebhookForm(t *testing.T) {
	e, o, _ := newOutboundEnv(t)
	b := e.browser()
	b.signInOperator()

	// A refused URL: the page again, the URL kept in the form, the reason beside it, escaped.
	bad := "http://refuse.example/qqbot"
	a := b.post("/bots/echo", "/bots/echo/webhook", url.Values{"url": {bad}})
	wantStatus(t, "refused URL", a, http.StatusBadRequest, `id="webhook-error"`,
		"webhook validation (op 13) failed: &lt;b&gt;validation answered HTTP 404&lt;/b&gt;", `value="`+bad+`"`)
	wantStatus(t, "too long a URL", b.post("/bots/echo", "/bots/echo/webhook", url.Values{"url": {"http://x/" + strings.Repeat("a", 3000)}}),
		http.StatusBadRequest, "too long")

	good := "http://bot.example/qqbot"
	a = b.post("/bots/echo", "/bots/echo/webhook", url.Values{"url": {good}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/bots/echo?flash=webhook_validated" {
		t.Fatalf("good URL: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	wantStatus(t, "the page after", b.do("GET", a.header.Get("Location"), nil), http.StatusOK,
		"passed validation (op 13) and is saved", `id="webhook-status"`, "Validated (op 13)", good)
	a = b.post("/bots/echo", "/bots/echo/webhook", url.Values{"url": {""}})
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.header.Get("Location"), "flash=webhook_off") {
		t.Fatalf("empty URL: HTTP %d Location %q", a.status, a.header.Get("Location"))
	}
	want := []string{"SetWebhook echo " + bad + " 0", "SetWebhook echo " + good + " 0", "SetWebhook echo  0"}
	if got := o.changes(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestRedeliverForm(t *testing.T) {
	e, o, _ := newOutboundEnv(t)
	b := e.browser()
	b.signInOperator()
	for _, tt := range []struct {
		name string
		form url.Values
		says string
	}{
		{"unknown stream", url.Values{"stream": {"group_info"}, "from_seq": {"1"}}, "webhook or the callback"},
		{"no stream", url.Values{"from_seq": {"1"}}, "webhook or the callback"},
		{"seq not a number", url.Values{"stream": {"webhook"}, "from_seq": {"abc"}}, "whole number"},
		{"negative seq", url.Values{"stream": {"webhook"}, "from_seq": {"-1"}}, "whole number"},
		{"no seq", url.Values{"stream": {"webhook"}}, "whole number"},
	} {
		wantStatus(t, tt.name, b.post("/bots/echo", "/bots/echo/redeliver", tt.form), http.StatusBadRequest, tt.says)
	}
	a := b.post("/bots/echo", "/bots/echo/redeliver", url.Values{"stream": {"webhook"}, "from_seq": {"4"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/bots/echo?flash=redelivered" {
		t.Fatalf("redeliver: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	wantStatus(t, "the page after", b.do("GET", a.header.Get("Location"), nil), http.StatusOK, "Redelivery started")
	if got, want := o.changes(), []string{"Redeliver echo webhook 4"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// TestOutboundCSRF: the webhook and redeliver forms need the session's
// token, and a bot developer changes only their own bot's.
func TestOutboundCSRF(t *testing.T) {
	e, o, echo := newOutboundEnv(t)
	b := e.browser()
	b.signInOperator()
	other := e.browser()
	other.signInOperator()
	forms := map[string]url.Values{
		"/bots/echo/webhook":   {"url": {"http://bot.example/qqbot"}},
		"/bots/echo/redeliver": {"stream": {"webhook"}, "from_seq": {"1"}},
	}
	for path, form := range forms {
		for name, token := range map[string]string{"no": "", "a wrong": "x", "another session's": other.csrf("/bots/echo")} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			wantStatus(t, path+" with "+name+" token", b.do("POST", path, f), http.StatusForbidden, "form expired")
		}
		wantStatus(t, path+" signed out", e.browser().do("POST", path, form), http.StatusUnauthorized)
	}
	if got := o.changes(); len(got) != 0 {
		t.Fatalf("refused forms reached the deliveries: %q", got)
	}

	dev := e.browser()
	if a := dev.signIn(url.Values{"app_id": {echo.AppID}, "app_secret": {echo.AppSecret}}); a.status != http.StatusSeeOther {
		t.Fatalf("bot sign-in: HTTP %d", a.status)
	}
	wantStatus(t, "another bot's webhook", dev.post("/bots/echo", "/bots/other/webhook", url.Values{"url": {"http://x/"}}), http.StatusForbidden, "may not")
	wantStatus(t, "another bot's redeliver", dev.post("/bots/echo", "/bots/other/redeliver", url.Values{"stream": {"webhook"}, "from_seq": {"1"}}),
		http.StatusForbidden, "may not")
	if got := o.changes(); len(got) != 0 {
		t.Fatalf("a bot developer changed another bot's deliveries: %q", got)
	}
	page := dev.do("GET", "/bots/echo", nil)
	wantStatus(t, "own page", page, http.StatusOK, "sess-echo")
	if strings.Contains(page.body, "sess-other") {
		t.Errorf("the developer's page lists another bot's session")
	}
	if a := dev.post("/bots/echo", "/bots/echo/redeliver", url.Values{"stream": {"callback"}, "from_seq": {"2"}}); a.status != http.StatusSeeOther {
		t.Errorf("own redeliver: HTTP %d: %s", a.status, a.body)
	}
	if got, want := o.changes(), []string{"Redeliver echo callback 2"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// TestOutboundChinese: the sections speak Chinese too.
func TestOutboundChinese(t *testing.T) {
	e, _, _ := newOutboundEnv(t)
	b := e.browser()
	b.signInOperator()
	wantStatus(t, "zh bot page", b.do("GET", "/bots/echo", nil, "Accept-Language", "zh-CN"), http.StatusOK,
		"回调地址", "投递", "网关会话", "重新投递", "在线", "分片")
}
