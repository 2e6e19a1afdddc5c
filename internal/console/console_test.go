package console_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

const adminSecret = "test-admin-secret"

type env struct {
	t   *testing.T
	svc *group.Service
	c   *console.Console
	srv *httptest.Server
}

// newEnv runs a console over a new SQLite store; opts, if any, change its Options.
func newEnv(t *testing.T, opts ...func(*console.Options)) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := group.NewService(st, group.Config{})
	o := console.Options{AdminSecret: adminSecret, Version: "test", StoreKind: "sqlite", StreamPoll: 20 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	c, err := console.New(svc, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Cleanup(c.Stop)
	for _, u := range []string{"alice", "bob"} {
		if _, err := svc.PutUser(t.Context(), group.User{ID: u, Name: u, DisplayName: u}); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t: t, svc: svc, c: c, srv: srv}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.srv.URL, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header ...string) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	a := b.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(a.body)
	if m == nil {
		b.t.Fatalf("GET %s: HTTP %d, no CSRF field in %s", path, a.status, a.body)
	}
	return m[1]
}

func (b *browser) signIn(form url.Values) answer {
	b.t.Helper()
	form.Set("csrf", b.csrf("/signin"))
	return b.do("POST", "/signin", form)
}

func (b *browser) signInOperator() {
	b.t.Helper()
	if a := b.signIn(url.Values{"secret": {adminSecret}}); a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		b.t.Fatalf("operator sign-in: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
}

// post sends form with the CSRF token of the page at from.
func (b *browser) post(from, path string, form url.Values) answer {
	b.t.Helper()
	form.Set("csrf", b.csrf(from))
	return b.do("POST", path, form)
}

func wantStatus(t *testing.T, what string, a answer, status int, contains ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("%s: HTTP %d, want %d: %s", what, a.status, status, a.body)
	}
	for _, c := range contains {
		if !strings.Contains(a.body, c) {
			t.Errorf("%s: body lacks %q: %s", what, c, a.body)
		}
	}
	if strings.Contains(a.body, "goroutine ") || strings.Contains(a.body, "panic") {
		t.Errorf("%s: body shows a stack trace: %s", what, a.body)
	}
}

func TestSessionRequired(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, p := range []string{"/", "/bots", "/bots/x", "/groups", "/groups/g", "/groups/g/stream?after=0", "/playground"} {
		a := b.do("GET", p, nil)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/signin" {
			t.Errorf("GET %s without a session: HTTP %d Location %q", p, a.status, a.header.Get("Location"))
		}
	}
	for _, p := range []string{"/bots", "/groups", "/signout", "/playground/send", "/bots/x/ice-breaker"} {
		wantStatus(t, "POST "+p+" without a session", b.do("POST", p, url.Values{"id": {"x"}, "owner": {"alice"}}), http.StatusUnauthorized)
	}
	if _, _, err := e.svc.GetRobot(t.Context(), "x"); !group.IsNotExist(err) {
		t.Errorf("a POST without a session created a bot: %v", err)
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	wantStatus(t, "wrong secret", b.signIn(url.Values{"secret": {"wrong"}}), http.StatusUnauthorized, "Wrong secret")
	wantStatus(t, "sign-in without the form's token", b.do("POST", "/signin", url.Values{"secret": {adminSecret}}), http.StatusForbidden)

	a := b.signIn(url.Values{"secret": {adminSecret}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign-in: HTTP %d: %s", a.status, a.body)
	}
	var cookie string
	for _, c := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "qun_console=") {
			cookie = c
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure over plain HTTP", cookie)
	}
	overview := b.do("GET", "/", nil)
	wantStatus(t, "overview", overview, http.StatusOK, "sqlite", "test")
	if csp := overview.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if cl := overview.header.Get("Content-Length"); cl != strconv.Itoa(len(overview.body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, len(overview.body))
	}
	if strings.Contains(overview.body, "<script>") {
		t.Error("the page has an inline script")
	}

	csrf := b.csrf("/")
	if a := b.do("POST", "/signout", url.Values{"csrf": {csrf}}); a.status != http.StatusSeeOther {
		t.Fatalf("sign-out: HTTP %d", a.status)
	}
	if a := b.do("GET", "/", nil); a.status != http.StatusSeeOther {
		t.Errorf("after sign-out GET / is HTTP %d, want the sign-in redirect", a.status)
	}
}

func TestSignInRateLimited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for i := range console.DefaultSignInAttempts {
		if a := b.signIn(url.Values{"secret": {"wrong"}}); a.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: HTTP %d", i+1, a.status)
		}
	}
	wantStatus(t, "one attempt too many, with the right secret", b.signIn(url.Values{"secret": {adminSecret}}), http.StatusTooManyRequests, "Too many")
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signInOperator()
	other := e.browser()
	other.signInOperator()
	for name, token := range map[string]string{"none": "", "wrong": "x", "another session's": other.csrf("/bots")} {
		form := url.Values{"id": {"bot-" + strings.ReplaceAll(name, "'", "")}, "owner": {"alice"}}
		if token != "" {
			form.Set("csrf", token)
		}
		wantStatus(t, "create with "+name+" token", b.do("POST", "/bots", form), http.StatusForbidden, "form expired")
		if _, _, err := e.svc.GetRobot(t.Context(), form.Get("id")); !group.IsNotExist(err) {
			t.Errorf("a POST with %s token created the bot: %v", name, err)
		}
	}
	if a := b.post("/bots", "/bots", url.Values{"id": {"echo"}, "display_name": {"Echo"}, "owner": {"alice"}}); a.status != http.StatusSeeOther {
		t.Fatalf("create with the session's token: HTTP %d: %s", a.status, a.body)
	}
	if _, _, err := e.svc.GetRobot(t.Context(), "echo"); err != nil {
		t.Errorf("bot not created: %v", err)
	}
}

func TestBotDeveloperSeesOnlyItsBot(t *testing.T) {
	e := newEnv(t)
	_, mine, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "mine", DisplayName: "Mine"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "theirs"}}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"with-mine", "without"} {
		members := []group.Member{{UserID: "bob"}}
		if g == "with-mine" {
			members = append(members, group.Member{UserID: "mine"})
		}
		if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: g, Owner: "alice"}, Members: members}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	wantStatus(t, "wrong app secret", b.signIn(url.Values{"app_id": {mine.AppID}, "app_secret": {"wrong"}}), http.StatusUnauthorized)
	wantStatus(t, "unknown app id", b.signIn(url.Values{"app_id": {"123"}, "app_secret": {mine.AppSecret}}), http.StatusUnauthorized)
	a := b.signIn(url.Values{"app_id": {mine.AppID}, "app_secret": {mine.AppSecret}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/bots/mine" {
		t.Fatalf("bot sign-in: HTTP %d Location %q", a.status, a.header.Get("Location"))
	}
	wantStatus(t, "own bot", b.do("GET", "/bots/mine", nil), http.StatusOK, mine.AppSecret, "with-mine")
	wantStatus(t, "its group", b.do("GET", "/groups/with-mine", nil), http.StatusOK)
	for _, p := range []string{"/bots/theirs", "/groups", "/groups/without", "/groups/without/stream?after=0", "/playground?group=without&user=bob"} {
		a := b.do("GET", p, nil)
		wantStatus(t, "GET "+p, a, http.StatusForbidden, "may not")
	}
	wantStatus(t, "another bot's ice-breaker", b.post("/bots/mine", "/bots/theirs/ice-breaker", url.Values{"enabled": {"on"}, "text": {"hi"}}), http.StatusForbidden)
	wantStatus(t, "create a bot", b.post("/bots/mine", "/bots", url.Values{"id": {"new"}}), http.StatusForbidden)
	wantStatus(t, "add another bot", b.post("/bots/mine", "/playground/robot", url.Values{"group": {"with-mine"}, "user": {"alice"}, "bot": {"theirs"}}), http.StatusForbidden)
	if _, b, _ := e.svc.GetRobot(t.Context(), "theirs"); b.IceBreaker.Enabled {
		t.Error("a bot developer changed another bot's ice-breaker")
	}
	if a := b.post("/bots/mine", "/bots/mine/ice-breaker", url.Values{"enabled": {"on"}, "text": {"hello"}}); a.status != http.StatusSeeOther {
		t.Errorf("own ice-breaker: HTTP %d: %s", a.status, a.body)
	}
}

func TestBadInputIsReadable(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signInOperator()
	long := strings.Repeat("x", group.MaxIDLen+1)
	for _, tt := range []struct {
		name, from, path string
		form             url.Values
		status           int
		says             string
	}{
		{"bot id too long", "/bots", "/bots", url.Values{"id": {long}}, http.StatusBadRequest, "longer than"},
		{"bot without id", "/bots", "/bots", url.Values{"id": {""}}, http.StatusBadRequest, "empty"},
		{"group without owner", "/groups", "/groups", url.Values{"id": {"g"}}, http.StatusBadRequest, "empty"},
		{"group member id too long", "/groups", "/groups", url.Values{"id": {"g"}, "owner": {"alice"}, "members": {long}}, http.StatusBadRequest, "longer than"},
		{"send to an unknown group", "/playground", "/playground/send", url.Values{"group": {"nope"}, "user": {"alice"}, "text": {"hi"}}, http.StatusNotFound, "nope"},
		{"ice-breaker of an unknown bot", "/bots", "/bots/nope/ice-breaker", url.Values{"text": {"hi"}}, http.StatusNotFound, "nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, tt.name, b.post(tt.from, tt.path, tt.form), tt.status, tt.says)
		})
	}
	wantStatus(t, "unknown group", b.do("GET", "/groups/nope", nil), http.StatusNotFound)
	wantStatus(t, "bad paging", b.do("GET", "/groups/nope?members_after=-1", nil), http.StatusBadRequest, "whole numbers")
	wantStatus(t, "unknown page", b.do("GET", "/nope", nil), http.StatusNotFound, "does not exist")
}

func TestLanguage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	wantStatus(t, "zh from Accept-Language", b.do("GET", "/signin", nil, "Accept-Language", "en;q=0.5, zh-CN"), http.StatusOK, "登录")
	wantStatus(t, "en from Accept-Language", b.do("GET", "/signin", nil, "Accept-Language", "fr, en-GB;q=0.8"), http.StatusOK, "Sign in")
	if a := b.do("GET", "/lang/zh?back=//evil.example", nil); a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		t.Fatalf("switch: HTTP %d Location %q", a.status, a.header.Get("Location"))
	}
	wantStatus(t, "the switch wins", b.do("GET", "/signin", nil, "Accept-Language", "en"), http.StatusOK, "登录")
}

// The timeline streams new messages as Server-Sent Events, a notification
// as a sentence, from the seq given.
func TestTimelineStream(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Name: "Team", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signInOperator()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/groups/g/stream?after=0", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next := func() string {
		for lines.Scan() {
			if d, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				return d
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	if d := next(); !strings.Contains(d, `"text":"the server created the group Team"`) || !strings.Contains(d, `"notice":true`) {
		t.Errorf("first event %s, want the creation as a sentence", d)
	}
	if _, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: "bob", ConvType: group.ConvGroup, Target: "g",
		Payload: group.Payload{Type: group.ContentText, SearchableContent: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if d := next(); !strings.Contains(d, `"sender":"bob"`) || !strings.Contains(d, `"text":"hello"`) {
		t.Errorf("second event %s, want bob's message", d)
	}
	e.c.Stop()
	for lines.Scan() {
	}
}
