package wildfire_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
	"github.com/qun-chat/qun/internal/wildfire"
)

// testEpoch is the fake clock's start: the member createDt of the reference's
// verbatim member list.
const testEpoch = 1700000000000

const adminSecret = "admin-secret"

// clock is a fake clock tests move by hand; no test depends on real time.
type clock struct{ ms atomic.Int64 }

func newClock(ms int64) *clock {
	c := &clock{}
	c.ms.Store(ms)
	return c
}

func (c *clock) Now() time.Time      { return time.UnixMilli(c.ms.Load()) }
func (c *clock) Add(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func (c *clock) Millis() int64       { return c.ms.Load() }

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is a running Robot API and Admin API on port 0 over a real SQLite store.
type env struct {
	t     testing.TB
	clock *clock
	store *sqlite.Store
	svc   *group.Service
	logs  *lockedBuffer
	// robotH and adminH are the handlers, for tests that call them directly.
	robotH, adminH http.Handler
	robotSrv       *httptest.Server
	adminSrv       *httptest.Server
	admin          *client.Client
}

// envOptions changes an env's door options.
type envOptions struct {
	robotRate int
	epoch     int64
	secret    string // admin secret; "" means adminSecret
	noSecret  bool   // run the Admin API with an empty secret
	perCall   int    // the domain's MaxMembersPerCall; 0 means its default
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.epoch == 0 {
		o.epoch = testEpoch
	}
	secret := adminSecret
	if o.secret != "" {
		secret = o.secret
	}
	if o.noSecret {
		secret = ""
	}
	e := &env{t: t, clock: newClock(o.epoch), logs: &lockedBuffer{}}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qun.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	e.svc = group.NewService(st, group.Config{Now: e.clock.Now, MaxMembersPerCall: o.perCall})
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Nonces are kept in the store, as qun serve keeps them.
	nonces := wildfire.NewStoreNonces(st, e.clock.Now)
	e.robotH = wildfire.NewRobotAPI(e.svc, wildfire.RobotOptions{Now: e.clock.Now, Logger: log, RobotRate: o.robotRate, Nonces: nonces})
	e.adminH = wildfire.NewAdminAPI(e.svc, secret, wildfire.AdminOptions{Now: e.clock.Now, Logger: log, Nonces: nonces})
	e.robotSrv = httptest.NewServer(e.robotH)
	t.Cleanup(e.robotSrv.Close)
	e.adminSrv = httptest.NewServer(e.adminH)
	t.Cleanup(e.adminSrv.Close)
	e.admin = client.NewAdmin(e.adminSrv.URL, secret)
	e.admin.Now = e.clock.Now
	return e
}

// robot creates a robot through the Admin API and returns a client signing as it.
func (e *env) robot(id, secret string) *client.Client {
	e.t.Helper()
	var res struct {
		UserID string `json:"userId"`
		Secret string `json:"secret"`
	}
	e.ok(e.admin, "/admin/robot/create", map[string]any{"userId": id, "name": id, "displayName": id, "secret": secret}, &res)
	if res.UserID != id || res.Secret != secret {
		e.t.Fatalf("robot/create = %+v, want %s/%s", res, id, secret)
	}
	c := client.NewRobot(e.robotSrv.URL, id, secret)
	c.Now = e.clock.Now
	return c
}

// user creates a user through the Admin API.
func (e *env) user(id string) {
	e.t.Helper()
	e.ok(e.admin, "/admin/user/create", map[string]any{"userId": id, "name": id, "displayName": id}, nil)
}

// call posts body and returns the code; a transport failure or a status
// other than 200 fails the test.
func (e *env) call(c *client.Client, path string, body any, result any) int {
	e.t.Helper()
	code, err := c.Call(context.Background(), path, body, result)
	if code == -1 {
		e.t.Fatalf("%s: %v", path, err)
	}
	return code
}

// ok calls and requires code 0.
func (e *env) ok(c *client.Client, path string, body any, result any) {
	e.t.Helper()
	if code := e.call(c, path, body, result); code != 0 {
		e.t.Fatalf("%s %v: code %d, want 0", path, body, code)
	}
}

// want calls and requires code.
func (e *env) want(code int, c *client.Client, path string, body any) {
	e.t.Helper()
	if got := e.call(c, path, body, nil); got != code {
		e.t.Errorf("%s %v: code %d, want %d", path, body, got, code)
	}
}

// raw posts body bytes signed by c and returns the HTTP status and the body.
func (e *env) raw(c *client.Client, path, body string) (int, string) {
	e.t.Helper()
	req, err := c.NewRequest(context.Background(), path, []byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, req)
}

// do sends req and returns the HTTP status and the body; every answer must
// carry its Content-Length.
func (e *env) do(c *client.Client, req *http.Request) (int, string) {
	e.t.Helper()
	resp, b := e.send(c.HTTP, req)
	return resp.StatusCode, string(b)
}

// send sends req with hc (nil: the default client) and returns the answer and its body, checking that the
// answer carried a Content-Length equal to the body's length: Wildfire's
// Java admin SDK reads a body only when Content-Length is positive.
func (e *env) send(hc *http.Client, req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(b)); got != want || len(resp.TransferEncoding) != 0 {
		e.t.Errorf("%s: Content-Length %q (transfer encoding %v), want %s", req.URL.Path, got, resp.TransferEncoding, want)
	}
	return resp, b
}

// timelineMessage is an entry of /admin/group/messages.
type timelineMessage struct {
	Seq        int64  `json:"seq"`
	MessageUID int64  `json:"messageUid"`
	Sender     string `json:"sender"`
	Line       int    `json:"line"`
	Payload    struct {
		Type         int    `json:"type"`
		Content      string `json:"content"`
		Base64edData string `json:"base64edData"`
	} `json:"payload"`
	Timestamp int64 `json:"timestamp"`
}

// messages reads a group line's whole timeline through the Admin API.
func (e *env) messages(gid string, line int) []timelineMessage {
	e.t.Helper()
	var res struct {
		Messages []timelineMessage `json:"messages"`
	}
	e.ok(e.admin, "/admin/group/messages", map[string]any{"group_id": gid, "line": line, "limit": 500}, &res)
	return res.Messages
}

// members reads a group's member list through the Admin API as {id: type}.
func (e *env) members(gid string) map[string]int {
	e.t.Helper()
	var res struct {
		Members []struct {
			MemberID string `json:"member_id"`
			Type     int    `json:"type"`
		} `json:"members"`
	}
	e.ok(e.admin, "/admin/group/member/list", map[string]any{"groupId": gid}, &res)
	out := map[string]int{}
	for _, m := range res.Members {
		out[m.MemberID] = m.Type
	}
	return out
}

// snapshot is the observable state of a group, for "nothing was written" checks.
func (e *env) snapshot(gid string) string {
	e.t.Helper()
	var b bytes.Buffer
	for _, path := range []string{"/admin/group/get_info", "/admin/group/member/list"} {
		_, body := e.raw(e.admin, path, `{"groupId":"`+gid+`"}`)
		b.WriteString(body)
	}
	for line := range 3 {
		ms, _ := json.Marshal(e.messages(gid, line))
		b.Write(ms)
	}
	return b.String()
}

// notificationData decodes a built-in notification's base64 data.
func notificationData(t testing.TB, m timelineMessage) map[string]any {
	t.Helper()
	var d map[string]any
	raw, err := base64.StdEncoding.DecodeString(m.Payload.Base64edData)
	if err != nil {
		t.Fatalf("notification data: %v", err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("notification data %q: %v", raw, err)
	}
	return d
}
