package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app/apptest"
)

// /metrics, on the admin listener only, parses as Prometheus text, and its
// counters move with the Robot API, Admin API and Bot Open Platform calls
// and the gateway connection the test makes.
func TestMetrics(t *testing.T) {
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	apptest.Call(t, admin, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice"}, nil)
	var robot struct {
		Secret    string `json:"secret"`
		AppID     string `json:"appId"`
		AppSecret string `json:"appSecret"`
	}
	apptest.Call(t, admin, "/admin/robot/create", map[string]any{"userId": "echo", "name": "echo", "displayName": "Echo", "owner": "alice"}, &robot)
	apptest.Call(t, admin, "/admin/group/create", map[string]any{"group": map[string]any{
		"group_info": map[string]any{"target_id": "team", "name": "team", "owner": "alice", "type": 2},
		"members":    []any{map[string]any{"member_id": "alice"}, map[string]any{"member_id": "echo"}},
	}}, nil)

	before := apptest.Scrape(t, tm.Admin)
	// The Robot API: three calls served, one refused.
	rc := client.NewRobot(tm.Public, "echo", robot.Secret)
	for range 3 {
		apptest.Call(t, rc, "/robot/profile", nil, nil)
	}
	if code, err := rc.Call(ctx, "/robot/group/member/get", map[string]any{"groupId": "team"}, nil); code != 251 {
		t.Fatalf("member/get without memberId: %d, %v", code, err)
	}
	// The Bot Open Platform: a token, the bot itself, a refused call.
	qq := func(method, path, auth, body string) *http.Response {
		req, err := http.NewRequestWithContext(ctx, method, tm.Public+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := qq("POST", "/app/getAppAccessToken", "", `{"appId":"`+robot.AppID+`","clientSecret":"`+robot.AppSecret+`"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	auth := "QQBot " + tok.AccessToken
	for _, c := range []struct {
		path   string
		status int
	}{{"/users/@me", 200}, {"/v2/groups/" + strings.Repeat("0", 32) + "/members", 404}} {
		resp := qq("GET", c.path, auth, "")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("GET %s: HTTP %d, want %d", c.path, resp.StatusCode, c.status)
		}
	}

	// Gateway connections: identify and get an @-message; resume and get
	// it replayed; resume an unknown session and get op 9. Each ends with
	// a close the server counts before it sends it: a second identify gets
	// 4005, op 9 is followed by 4006.
	dial := func() (*websocket.Conn, func() map[string]any) {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(tm.Public, "http")+"/websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		read := func() map[string]any {
			t.Helper()
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("gateway read: %v", err)
			}
			var f map[string]any
			json.Unmarshal(data, &f)
			return f
		}
		read() // Hello
		return ws, read
	}
	send := func(ws *websocket.Conn, frame string) {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	closedWith := func(ws *websocket.Conn, code websocket.StatusCode) {
		t.Helper()
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				if websocket.CloseStatus(err) != code {
					t.Fatalf("closed with %v, want %d", err, code)
				}
				return
			}
		}
	}
	identify := `{"op":2,"d":{"token":"` + auth + `","intents":33554432,"shard":[0,1]}}`
	ws, read := dial()
	send(ws, identify)
	ready := read()
	if ready["t"] != "READY" {
		t.Fatalf("want READY, got %v", ready)
	}
	apptest.Call(t, admin, "/admin/message/send", map[string]any{"sender": "alice", "conv": map[string]any{"type": 1, "target": "team"},
		"payload": map[string]any{"type": 1, "searchableContent": "@Echo ping", "mentionedType": 1, "mentionedTarget": []string{"echo"}}}, nil)
	if f := read(); f["t"] != "GROUP_AT_MESSAGE_CREATE" {
		t.Fatalf("want the @-message, got %v", f)
	}
	send(ws, identify)
	closedWith(ws, 4005)

	sessionID := ready["d"].(map[string]any)["session_id"].(string)
	ws, read = dial()
	send(ws, `{"op":6,"d":{"token":"`+auth+`","session_id":"`+sessionID+`","seq":`+strconv.Itoa(int(ready["s"].(float64)))+`}}`)
	if f := read(); f["t"] != "GROUP_AT_MESSAGE_CREATE" {
		t.Fatalf("want the @-message replayed, got %v", f)
	}
	if f := read(); f["t"] != "RESUMED" {
		t.Fatalf("want RESUMED, got %v", f)
	}
	send(ws, identify)
	closedWith(ws, 4005)

	ws, read = dial()
	send(ws, `{"op":6,"d":{"token":"`+auth+`","session_id":"no-such-session","seq":0}}`)
	if f := read(); f["op"] != float64(9) {
		t.Fatalf("want op 9, got %v", f)
	}
	closedWith(ws, 4006)

	after := apptest.Scrape(t, tm.Admin)
	moved := func(name string, want float64, labels ...string) {
		t.Helper()
		if got := apptest.Value(after, name, labels...) - max(apptest.Value(before, name, labels...), 0); got != want {
			t.Errorf("%s%v moved by %v, want %v", name, labels, got, want)
		}
	}
	moved("qun_requests_total", 3, "door", "robot", "route", "/robot/profile", "code", "0")
	moved("qun_requests_total", 1, "door", "robot", "route", "/robot/group/member/get", "code", "251")
	moved("qun_request_duration_seconds", 3, "door", "robot", "route", "/robot/profile")
	moved("qun_requests_total", 1, "door", "admin", "route", "/admin/message/send", "code", "0")
	moved("qun_requests_total", 1, "door", "qq", "route", "/app/getAppAccessToken", "code", "0")
	moved("qun_requests_total", 1, "door", "qq", "route", "/users/@me", "code", "0")
	moved("qun_requests_total", 1, "door", "qq", "route", "/v2/groups/{group_openid}/members", "code", "11255")
	moved("qun_gateway_sessions_total", 1, "how", "identify")
	moved("qun_gateway_sessions_total", 1, "how", "resume")
	moved("qun_gateway_events_delivered_total", 2)
	moved("qun_gateway_events_replayed_total", 1)
	moved("qun_gateway_invalid_sessions_total", 1)
	moved("qun_gateway_closes_total", 2, "code", "4005")
	moved("qun_gateway_closes_total", 1, "code", "4006")
	moved("qun_gateway_connections", 0) // opened and closed
	moved("qun_events_appended_total", 1)
	if apptest.Value(after, "qun_store_commits_total") < 1 || apptest.Value(after, "qun_store_updates_total") < apptest.Value(after, "qun_store_commits_total") ||
		apptest.Value(after, "qun_store_updates_per_commit") != apptest.Value(after, "qun_store_commits_total") {
		t.Errorf("store commits %v, updates %v, updates per commit observed %v times", apptest.Value(after, "qun_store_commits_total"),
			apptest.Value(after, "qun_store_updates_total"), apptest.Value(after, "qun_store_updates_per_commit"))
	}
	for _, name := range []string{"qun_store_queue_depth", "qun_store_queue_wait_seconds", "qun_prune_deleted_rows_total",
		"qun_gateway_invalid_sessions_total", "qun_store_retries_total", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := after[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	if apptest.Value(after, "qun_store_queue_wait_seconds") < apptest.Value(after, "qun_store_updates_total") {
		t.Errorf("queue wait observed %v times for %v updates", apptest.Value(after, "qun_store_queue_wait_seconds"), apptest.Value(after, "qun_store_updates_total"))
	}
	// Not on the public listener: there it is the Bot Open Platform's 404.
	pub, err := http.Get(tm.Public + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	pub.Body.Close()
	if pub.StatusCode != http.StatusNotFound || pub.Header.Get("X-Tps-trace-ID") == "" {
		t.Errorf("public GET /metrics: HTTP %d", pub.StatusCode)
	}
}

// /readyz answers 200 on both listeners while the store answers and 503 with
// a JSON body once it is closed; /healthz stays 200.
func TestReadyz(t *testing.T) {
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: Content-Type %q", url, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, string(b)
	}
	for _, base := range []string{tm.Public, tm.Admin} {
		if status, body := get(base + "/readyz"); status != 200 || body != `{"status":"ok"}`+"\n" {
			t.Errorf("%s/readyz: %d %s", base, status, body)
		}
	}
	if err := tm.Store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{tm.Public, tm.Admin} {
		if status, body := get(base + "/readyz"); status != 503 || body != `{"status":"unavailable","reason":"the store does not answer"}`+"\n" {
			t.Errorf("%s/readyz with the store closed: %d %s", base, status, body)
		}
		if status, _ := get(base + "/healthz"); status != 200 {
			t.Errorf("%s/healthz with the store closed: %d", base, status)
		}
	}
}
