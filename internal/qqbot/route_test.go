package qqbot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

var traceID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestEveryAnswerHasTraceAndContentType(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	e.createGroup("alice", "g1", "bot1")
	tok := e.token(bot)
	g := e.seen(bot, group.OpenIDGroup, "g1")
	auth := "QQBot " + tok
	for _, tc := range []struct {
		name, method, path, auth string
		body                     any
		status                   int
	}{
		{"token", "POST", "/app/getAppAccessToken", "", map[string]string{"appId": bot.AppID, "clientSecret": bot.AppSecret}, 200},
		{"token error", "POST", "/app/getAppAccessToken", "", map[string]string{"appId": bot.AppID}, 401},
		{"gateway", "GET", "/gateway", auth, nil, 200},
		{"gateway/bot", "GET", "/gateway/bot", auth, nil, 200},
		{"users/@me", "GET", "/users/@me", auth, nil, 200},
		{"no token", "GET", "/users/@me", "", nil, 401},
		{"members", "GET", "/v2/groups/" + g + "/members", auth, nil, 200},
		{"members POST", "POST", "/v2/groups/" + g + "/members", auth, map[string]int{"limit": 1}, 200},
		{"message", "POST", "/v2/groups/" + g + "/messages", auth, map[string]string{"content": "hi"}, 200},
		{"message error", "POST", "/v2/groups/" + g + "/messages", auth, map[string]int{"msg_type": 0}, 400},
		{"unknown group", "POST", "/v2/groups/ABC/messages", auth, map[string]string{"content": "hi"}, 404},
		{"unknown path", "GET", "/v2/nothing", auth, nil, 404},
		{"root", "GET", "/", "", nil, 404},
		{"unclean path", "POST", "/v2/groups//messages", auth, map[string]string{"content": "hi"}, 404},
		{"dot segments", "GET", "/v2/../gateway", auth, nil, 404},
		{"real gateway URL form", "GET", "/websocket/", "", nil, 400},
		{"wrong method", "DELETE", "/gateway/bot", auth, nil, 405},
		{"websocket without upgrade", "GET", "/websocket", "", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r := e.do(tc.method, tc.path, tc.auth, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d %s, want %d", r.status, r.body, tc.status)
			}
			if ct := r.header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
				t.Errorf("Content-Type %q, want exactly application/json", ct)
			}
			trace := r.header.Get(traceHeader)
			if !traceID.MatchString(trace) {
				t.Errorf("%s %q", traceHeader, trace)
			}
			if !json.Valid(r.body) {
				t.Errorf("body is not JSON: %s", r.body)
			}
			if r.status != 200 {
				if b := r.qqErr(t); b.TraceID != trace || b.Code == 0 || b.Code != b.ErrCode || b.Message == "" {
					t.Errorf("error body %s", r.body)
				}
			}
		})
	}
}

// Every answer carries Content-Length (doWith checks it on every answer of
// every test); a page of 100 members is far beyond the 2 KiB net/http buffers
// before it falls back to chunked encoding.
func TestLargeAnswerHasContentLength(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	users := []string{"bot1"}
	for i := range 100 {
		users = append(users, fmt.Sprintf("member-%03d", i))
	}
	e.users("alice")
	e.createGroup("alice", "g1", users...)
	tok := e.token(bot)
	g := e.seen(bot, group.OpenIDGroup, "g1")
	for _, method := range []string{"GET", "POST"} {
		r := e.do(method, "/v2/groups/"+g+"/members?limit=100", "QQBot "+tok, map[string]int{"limit": 100})
		if r.status != 200 || len(r.body) < 4<<10 {
			t.Fatalf("%s members: %d, %d bytes", method, r.status, len(r.body))
		}
		if r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Errorf("%s members: Content-Length %q, body %d bytes", method, r.header.Get("Content-Length"), len(r.body))
		}
	}
}

func TestGatewayDiscovery(t *testing.T) {
	e := newEnv(t)
	tok := e.token(e.robot("bot1", "QunBot"))
	host := e.hs.Listener.Addr().String()

	var gw struct {
		URL string `json:"url"`
	}
	e.do("GET", "/gateway", "QQBot "+tok, nil).json(t, &gw)
	if gw.URL != "ws://"+host+"/websocket" {
		t.Errorf("/gateway url %q", gw.URL)
	}
	var bot struct {
		URL    string `json:"url"`
		Shards int    `json:"shards"`
		Limit  struct {
			Total          int   `json:"total"`
			Remaining      int   `json:"remaining"`
			ResetAfter     int64 `json:"reset_after"`
			MaxConcurrency int   `json:"max_concurrency"`
		} `json:"session_start_limit"`
	}
	e.do("GET", "/gateway/bot", "QQBot "+tok, nil).json(t, &bot)
	if bot.URL != gw.URL || bot.Shards != 1 || bot.Limit.Remaining < bot.Shards || bot.Limit.Total < bot.Limit.Remaining ||
		bot.Limit.MaxConcurrency != 1 || bot.Limit.ResetAfter <= 0 {
		t.Errorf("/gateway/bot %+v", bot)
	}
	r := e.doWith("GET", "/gateway", "QQBot "+tok, map[string]string{"X-Forwarded-Proto": "https"}, nil)
	r.json(t, &gw)
	if gw.URL != "wss://"+host+"/websocket" {
		t.Errorf("behind TLS: %q", gw.URL)
	}

	for base, want := range map[string]string{
		"https://qq.example.com":      "wss://qq.example.com/websocket",
		"http://10.0.0.1:8080/qq/":    "ws://10.0.0.1:8080/qq/websocket",
		"wss://gw.example.com/prefix": "wss://gw.example.com/prefix/websocket",
	} {
		got, err := gatewayURL(base)
		if err != nil || got != want {
			t.Errorf("gatewayURL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "http://", "::"} {
		if _, err := New(e.svc, e.store, Options{PublicURL: bad, Logger: quietLogger()}); err == nil {
			t.Errorf("PublicURL %q accepted", bad)
		}
	}
	srv, err := New(e.svc, e.store, Options{PublicURL: "https://qq.example.com", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/gateway", nil)
	req.Header.Set("Authorization", "QQBot "+tok)
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"url":"wss://qq.example.com/websocket"}` {
		t.Errorf("with PublicURL: %d %s", rec.Code, rec.Body)
	}
}

// domainCodes returns every group.Code constant declared in the domain package.
func domainCodes(t *testing.T) []group.Code {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "group", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("domain sources: %v", err)
	}
	var codes []group.Code
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("a Code constant is not a string literal")
					}
					var s string
					if err := json.Unmarshal([]byte(lit.Value), &s); err != nil {
						t.Fatal(err)
					}
					codes = append(codes, group.Code(s))
				}
			}
		}
	}
	return codes
}

func TestErrorCodeTable(t *testing.T) {
	codes := domainCodes(t)
	if len(codes) < 16 {
		t.Fatalf("found only %d group.Code constants", len(codes))
	}
	for _, c := range codes {
		ae, ok := codeErrors[c]
		if !ok {
			t.Errorf("group.Code %q has no QQ answer", c)
			continue
		}
		if ae.Status < 400 || ae.Code == 0 || ae.Message == "" {
			t.Errorf("%q maps to %+v", c, ae)
		}
		// The request-value codes say why after the answer's text; the others
		// never show the domain's message, which may name internal ids.
		got, internal := toAPIError(group.Errorf(c, "detail of g-123"))
		switch {
		case internal != (ae == errServer):
			t.Errorf("toAPIError(%q) is internal: %v", c, internal)
		case shownReasons[c]:
			if got.Status != ae.Status || got.Code != ae.Code || got.Message != ae.Message+": detail of g-123" {
				t.Errorf("toAPIError(%q) = %+v, want %+v with the reason", c, got, ae)
			}
		case got != ae:
			t.Errorf("toAPIError(%q) = %+v, want %+v", c, got, ae)
		}
	}
	for c, want := range map[group.Code][2]int{
		group.ENotExist:   {404, 11255},
		group.ENotInGroup: {403, 40054003},
		group.ERejected:   {403, 40034105},
		group.EOverQuota:  {403, 40034100},
		group.EDuplicate:  {400, 40054005},
		group.EExpired:    {400, 40034128},
		group.EGroupMuted: {403, 40054002},
		group.ENotRight:   {403, 40054002},
	} {
		if ae := codeErrors[c]; ae.Status != want[0] || ae.Code != want[1] {
			t.Errorf("%q maps to %d/%d, want %d/%d", c, ae.Status, ae.Code, want[0], want[1])
		}
	}
	// Unmapped codes and plain errors are server errors; their text never reaches the client.
	for _, err := range []error{group.Errorf("bogus", "secret detail"), json.Unmarshal([]byte("x"), new(int))} {
		ae, internal := toAPIError(err)
		if ae != errServer || !internal {
			t.Errorf("toAPIError(%v) = %+v, %v; want the server error", err, ae, internal)
		}
	}
	rec := httptest.NewRecorder()
	s := &Server{log: quietLogger()}
	rec.Header().Set(traceHeader, "0123456789abcdef")
	s.writeError(rec, httptest.NewRequest("GET", "/x", nil), group.Errorf(group.ENotInGroup, "bot-internal-id is not in g-42"))
	if body := rec.Body.String(); rec.Code != 403 || body != `{"message":"机器人不在群中","code":40054003,"err_code":40054003,"trace_id":"0123456789abcdef"}` {
		t.Errorf("domain error answered %d %s", rec.Code, body)
	}
}

// panicStore panics in View and in AccessToken once armed: a bug deep
// inside a call (a REST call reads the domain, the gateway a token first).
type panicStore struct {
	*sqlite.Store
	armed atomic.Bool
}

func (p *panicStore) View(ctx context.Context, fn func(group.Reader) error) error {
	if p.armed.Load() {
		panic("test panic in View")
	}
	return p.Store.View(ctx, fn)
}

func (p *panicStore) AccessToken(ctx context.Context, token string) (group.AccessToken, error) {
	if p.armed.Load() {
		panic("test panic in AccessToken")
	}
	return p.Store.AccessToken(ctx, token)
}

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRecoverPanics(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ps := &panicStore{Store: st}
	logs := &syncBuffer{}
	srv, err := New(group.NewService(ps, group.Config{}), ps, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	ps.armed.Store(true)

	t.Run("REST", func(t *testing.T) {
		resp, err := hs.Client().Post(hs.URL+"/app/getAppAccessToken", "application/json",
			strings.NewReader(`{"appId":"1234567890","clientSecret":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		checkContentLength(t, resp, body)
		trace := resp.Header.Get(traceHeader)
		want := `{"message":"server error","code":500,"err_code":500,"trace_id":"` + trace + `"}`
		if resp.StatusCode != 500 || string(body) != want || !traceID.MatchString(trace) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("HTTP %d %s (trace %q), want 500 %s", resp.StatusCode, body, trace, want)
		}
		if l := logs.String(); !strings.Contains(l, "qqbot: panic") || !strings.Contains(l, "test panic in View") ||
			!strings.Contains(l, "trace_id="+trace) || !strings.Contains(l, "runtime/debug.Stack") {
			t.Errorf("log lacks the panic, its trace id or the stack:\n%s", l)
		}
	})
	t.Run("gateway", func(t *testing.T) {
		c, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(hs.URL, "http")+"/websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		w := &wsClient{t: t, c: c}
		w.read() // Hello
		w.resume("some-token", "some-session", 0)
		w.expectClose(websocket.StatusInternalError)
		if l := logs.String(); !strings.Contains(l, "qqbot: gateway panic") {
			t.Errorf("log lacks the gateway panic:\n%s", l)
		}
	})
}
