package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
)

func TestRestartKeepsGroupsAndTimeline(t *testing.T) {
	data := t.TempDir()
	cfg := apptest.Config(t, data)
	tm := apptest.Start(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	var robot struct {
		UserID string `json:"userId"`
		Secret string `json:"secret"`
	}
	apptest.Call(t, admin, "/admin/robot/create", map[string]any{"userId": "robota", "name": "robota", "displayName": "Robot A"}, &robot)
	rc := client.NewRobot(tm.Public, robot.UserID, robot.Secret)
	var created struct {
		GroupID string `json:"group_id"`
	}
	apptest.Call(t, rc, "/robot/group/create", map[string]any{"group": map[string]any{"group_info": map[string]any{"name": "g", "type": 2}, "members": []any{map[string]any{"member_id": "u1", "type": "0"}}}}, &created)
	apptest.Call(t, rc, "/robot/group/member/add", map[string]any{"group_id": created.GroupID, "members": []any{map[string]any{"member_id": "u2"}}}, nil)

	firstSecret := tm.Secret
	tm.Stop()
	tm = apptest.Start(t, cfg)
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
	apptest.Call(t, rc, "/robot/group/member/list", map[string]any{"groupId": created.GroupID}, &members)
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
	apptest.Call(t, admin, "/admin/group/messages", map[string]any{"group_id": created.GroupID}, &timeline)
	var types []int
	for _, m := range timeline.Messages {
		types = append(types, m.Payload.Type)
	}
	if len(types) != 2 || types[0] != 104 || types[1] != 105 {
		t.Fatalf("timeline after restart = %v, want [104 105]", types)
	}
}

func TestEnvAndFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "s")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	vars := map[string]string{"QUN_ADDR": "127.0.0.1:9", "QUN_ADMIN_SECRET_FILE": secretFile, "QUN_ROBOT_RATE": "5"}
	cfg, err := app.ParseConfig([]string{"--robot-rate", "7"}, func(k string) string { return vars[k] }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9" || cfg.AdminSecret != "from-file" || cfg.RobotRate != 7 || cfg.AdminAddr != app.DefaultAdminAddr {
		t.Fatalf("config = %+v", cfg)
	}
}

// An unclean path (double slash, dot segment, encoded slash, trailing slash)
// gets the 404 of the door it would belong to, as JSON, never a redirect:
// Robot API paths the Wildfire 404, every other public path the QQ 404 with
// its trace id, and every admin path the Admin API's 404.
func TestUncleanPathsGetTheDoors404(t *testing.T) {
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
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

// TestConfigReachesPackages sets every setting to something other than its
// default and checks that the packages run with it.
func TestConfigReachesPackages(t *testing.T) {
	data := t.TempDir()
	args := []string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data,
		"--max-group-members", "7", "--max-members-per-call", "3", "--proactive-quota", "9",
		"--proactive-period", "48h", "--passive-window", "2m", "--passive-replies", "2",
		"--event-retention", "3h", "--session-retention", "4h", "--bot-rest-rate", "11",
		"--identify-rate", "12", "--token-fail-rate", "13", "--token-ttl", "1h", "--max-gateway-conns", "14",
		"--heartbeat-interval", "20s", "--heartbeat-timeout", "2m", "--identify-timeout", "5s",
		"--max-shards", "4", "--max-frame", "4096", "--max-rest-body", "8192", "--write-timeout", "3s",
		"--prune-interval", "5m"}
	cfg, err := app.ParseConfig(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tm := apptest.Start(t, cfg)

	gc := tm.Service.Config()
	gotGroup := group.Config{MaxGroupMembers: gc.MaxGroupMembers, MaxMembersPerCall: gc.MaxMembersPerCall,
		PassiveWindow: gc.PassiveWindow, PassiveReplies: gc.PassiveReplies, ProactiveQuota: gc.ProactiveQuota,
		ProactivePeriod: gc.ProactivePeriod}
	wantGroup := group.Config{MaxGroupMembers: 7, MaxMembersPerCall: 3, PassiveWindow: 2 * time.Minute,
		PassiveReplies: 2, ProactiveQuota: 9, ProactivePeriod: 48 * time.Hour}
	if d := cmp.Diff(wantGroup, gotGroup); d != "" {
		t.Errorf("group config (-want +got):\n%s", d)
	}

	wantQQ := qqbot.Options{HeartbeatInterval: 20 * time.Second, HeartbeatTimeout: 2 * time.Minute,
		IdentifyTimeout: 5 * time.Second, MaxGatewayConns: 14, EventRetention: 3 * time.Hour,
		SessionRetention: 4 * time.Hour, TokenTTL: time.Hour, MaxFrame: 4096, MaxBody: 8192, IdentifyRate: 12,
		RESTRate: 11, TokenFailRate: 13, MaxShards: 4, PruneInterval: 5 * time.Minute, WriteTimeout: 3 * time.Second}
	// The node's name, kept in the data directory, names it in its gateway sessions.
	node, err := os.ReadFile(filepath.Join(data, app.NodeFile))
	if err != nil {
		t.Fatal(err)
	}
	wantQQ.Node = strings.TrimSpace(string(node))
	if d := cmp.Diff(wantQQ, tm.QQ.Options(), cmpopts.IgnoreFields(qqbot.Options{}, "Now", "Logger", "Observer")); d != "" {
		t.Errorf("qqbot options (-want +got):\n%s", d)
	}
}

// TestServePortTaken: a listen address another program holds stops qun serve
// with exit 1, the address, and which flags choose others.
func TestServePortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr strings.Builder
	code := app.Serve(context.Background(), []string{"--addr", ln.Addr().String(), "--admin-addr", "127.0.0.1:0", "--data", t.TempDir()},
		func(string) string { return "" }, app.BuildVersion{}, &stdout, &stderr)
	want := "qun serve: listen public " + ln.Addr().String() + ": "
	hint := "\nqun serve: another program listens there; give free addresses with --addr and --admin-addr (QUN_ADDR, QUN_ADMIN_ADDR)\n"
	if code != 1 || !strings.Contains(stderr.String(), want) || !strings.HasSuffix(stderr.String(), hint) {
		t.Fatalf("exit %d, stderr %q; want exit 1, %q and the hint", code, stderr.String(), want)
	}
}
