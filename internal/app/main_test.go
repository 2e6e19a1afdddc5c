package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
)

// testMain is a running qun on port 0 over a data directory.
type testMain struct {
	*Main
	cancel context.CancelFunc
	done   chan error
	Public string // http://host:port
	Admin  string
	Secret string
}

func testConfig(t *testing.T, data string) Config {
	t.Helper()
	cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--robot-rate", "0"}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startMain runs the real wiring until the test ends or stop is called.
func startMain(t *testing.T, cfg Config) *testMain {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain(cfg, &stdout, &stderr)
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open: %v\n%s", err, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	tm := &testMain{Main: m, cancel: cancel, done: make(chan error, 1)}
	go func() { tm.done <- m.Run(ctx) }()
	pub, adm := m.Server.Addrs()
	tm.Public, tm.Admin = "http://"+pub, "http://"+adm
	tm.Secret = cfg.AdminSecret
	if tm.Secret == "" {
		secret, err := os.ReadFile(filepath.Join(cfg.Data, AdminSecretFile))
		if err != nil {
			t.Fatal(err)
		}
		tm.Secret = strings.TrimSpace(string(secret))
	}
	t.Cleanup(tm.stop)
	return tm
}

// stop shuts qun down gracefully; calling it twice is fine.
func (tm *testMain) stop() {
	if tm.cancel == nil {
		return
	}
	tm.cancel()
	tm.cancel = nil
	if err := <-tm.done; err != nil {
		panic(err)
	}
	if err := tm.Close(); err != nil {
		panic(err)
	}
}

func call(t *testing.T, c *client.Client, path string, body, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := c.Call(ctx, path, body, result)
	if err != nil || code != 0 {
		t.Fatalf("%s: code %d, err %v", path, code, err)
	}
}

func TestRestartKeepsGroupsAndTimeline(t *testing.T) {
	data := t.TempDir()
	cfg := testConfig(t, data)
	tm := startMain(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	var robot struct {
		UserID string `json:"userId"`
		Secret string `json:"secret"`
	}
	call(t, admin, "/admin/robot/create", map[string]any{"userId": "robota", "name": "robota", "displayName": "Robot A"}, &robot)
	rc := client.NewRobot(tm.Public, robot.UserID, robot.Secret)
	var created struct {
		GroupID string `json:"group_id"`
	}
	call(t, rc, "/robot/group/create", map[string]any{"group": map[string]any{"group_info": map[string]any{"name": "g", "type": 2}, "members": []any{map[string]any{"member_id": "u1", "type": "0"}}}}, &created)
	call(t, rc, "/robot/group/member/add", map[string]any{"group_id": created.GroupID, "members": []any{map[string]any{"member_id": "u2"}}}, nil)

	firstSecret := tm.Secret
	tm.stop()
	tm = startMain(t, cfg)
	if tm.Secret != firstSecret {
		t.Fatalf("admin secret changed across restart")
	}
	admin = client.NewAdmin(tm.Admin, tm.Secret)
	rc = client.NewRobot(tm.Public, robot.UserID, robot.Secret)

	var members struct {
		Members []struct {
			MemberID string `json:"member_id"`
			Type     int    `json:"type"`
		} `json:"members"`
	}
	call(t, rc, "/robot/group/member/list", map[string]any{"groupId": created.GroupID}, &members)
	var ids []string
	for _, m := range members.Members {
		ids = append(ids, m.MemberID)
	}
	if strings.Join(ids, ",") != "robota,u1,u2" {
		t.Fatalf("members after restart = %v, want robota,u1,u2", ids)
	}
	var timeline struct {
		Messages []struct {
			Seq     int64 `json:"seq"`
			Payload struct {
				Type int `json:"type"`
			} `json:"payload"`
		} `json:"messages"`
	}
	call(t, admin, "/admin/group/messages", map[string]any{"group_id": created.GroupID}, &timeline)
	var types []int
	for _, m := range timeline.Messages {
		types = append(types, m.Payload.Type)
	}
	if len(types) != 2 || types[0] != 104 || types[1] != 105 {
		t.Fatalf("timeline after restart = %v, want [104 105]", types)
	}
}

func TestAdminSecretGeneratedOnceAndPrinted(t *testing.T) {
	data := t.TempDir()
	var out1, out2 bytes.Buffer
	m := NewMain(testConfig(t, data), &out1, os.Stderr)
	s1, err := m.adminSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), s1) {
		t.Fatalf("generated secret not printed: %q", out1.String())
	}
	m = NewMain(testConfig(t, data), &out2, os.Stderr)
	s2, err := m.adminSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 || out2.Len() != 0 {
		t.Fatalf("second start: secret %q (first %q), printed %q", s2, s1, out2.String())
	}
	fi, err := os.Stat(filepath.Join(data, AdminSecretFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v", err, fi.Mode())
	}
}

func TestEnvAndFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "s")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	vars := map[string]string{"QUN_ADDR": "127.0.0.1:9", "QUN_ADMIN_SECRET_FILE": secretFile, "QUN_ROBOT_RATE": "5"}
	cfg, err := ParseConfig([]string{"--robot-rate", "7"}, func(k string) string { return vars[k] }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9" || cfg.AdminSecret != "from-file" || cfg.RobotRate != 7 || cfg.AdminAddr != DefaultAdminAddr {
		t.Fatalf("config = %+v", cfg)
	}
}

// An unclean path (double slash, dot segment, encoded slash, trailing slash)
// gets the 404 of the door it would belong to, as JSON, never a redirect:
// Robot API paths the Wildfire 404, every other public path the QQ 404 with
// its trace id, and every admin path the Admin API's 404.
func TestUncleanPathsGetTheDoors404(t *testing.T) {
	tm := startMain(t, testConfig(t, t.TempDir()))
	const wildfire404 = `{"code":254,"msg":"not implement"}`
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	robotForms := []string{
		"//robot/group/get_info", "/robot//group/get_info", "/robot/./group/get_info", "/robot/group/./get_info",
		"/robot/group/../group/get_info", "/robot/group/get_info/", "/robot/group%2Fget_info", "/robot%2Fgroup%2Fget_info",
		"/robot/%2E/group/get_info", "/robot/group/%2e%2e/group/get_info", "/robot", "/robot/", "/robot/x", "///robot/profile",
		"/robot/profile//", "/x/../robot/profile",
	}
	qqForms := []string{
		"//healthz", "/./healthz", "/healthz/", "/x/../healthz", "/v2/groups//members", "/v2/groups/G/members/",
		"/v2//groups/G/messages", "//gateway", "/gateway/", "/./gateway/bot", "/users%2F@me", "//", "/..", "/v2/groups/%2E%2E/G/members",
		"//app/getAppAccessToken", "/app/getAppAccessToken/",
	}
	adminForms := []string{
		"//admin/group/get_info", "/admin//group/get_info", "/admin/./group/get_info", "/admin/group/../group/get_info",
		"/admin/group/get_info/", "/admin/group%2Fget_info", "/admin%2Fgroup%2Fget_info", "/admin", "/admin/",
		"//healthz", "/./healthz", "/healthz/", "/x/../healthz", "//", "///admin/user/create",
	}
	type door int
	const (
		robotDoor door = iota
		qqDoor
		adminDoor
	)
	type unclean struct {
		base, path string
		door       door
	}
	var cases []unclean
	for _, f := range []struct {
		base  string
		forms []string
		door  door
	}{{tm.Public, robotForms, robotDoor}, {tm.Public, qqForms, qqDoor}, {tm.Admin, adminForms, adminDoor}} {
		for _, p := range f.forms {
			cases = append(cases, unclean{f.base, p, f.door})
		}
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST"} {
			t.Run(fmt.Sprintf("%s %s%s", method, map[door]string{robotDoor: "public", qqDoor: "public", adminDoor: "admin"}[c.door], c.path), func(t *testing.T) {
				req, err := http.NewRequest(method, c.base+c.path, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				if req.URL.EscapedPath() != c.path {
					t.Fatalf("the client would send %q", req.URL.EscapedPath())
				}
				resp, err := noRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
					t.Fatalf("HTTP %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				switch c.door {
				case robotDoor, adminDoor:
					if string(body) != wildfire404 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
						t.Errorf("%s (%s), want the Wildfire 404 %s", body, resp.Header.Get("Content-Type"), wildfire404)
					}
				case qqDoor:
					var e struct {
						Code    int    `json:"code"`
						TraceID string `json:"trace_id"`
					}
					trace := resp.Header.Get("X-Tps-trace-ID")
					if json.Unmarshal(body, &e) != nil || e.Code != 11255 || trace == "" || e.TraceID != trace || resp.Header.Get("Content-Type") != "application/json" {
						t.Errorf("%s (%s, trace %q), want the QQ 404 body", body, resp.Header.Get("Content-Type"), trace)
					}
				}
			})
		}
	}
}
