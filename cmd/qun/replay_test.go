package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
)

// TestReplayRefusedAfterRestart captures signed requests that qun accepted,
// restarts qun (the real wiring) on the same data, the SQLite file or the
// PostgreSQL database, and sends them again byte for byte: each is refused
// with 244, on the Robot API and on the Admin API, for a write and for a read.
func TestReplayRefusedAfterRestart(t *testing.T) {
	stores := []struct {
		name string
		cfg  func(t *testing.T) app.Config
	}{
		{"SQLite", func(t *testing.T) app.Config { return apptest.Config(t, t.TempDir()) }},
		{"PostgreSQL", func(t *testing.T) app.Config {
			dsn := os.Getenv(mnDSNVar)
			if dsn == "" {
				t.Skipf("%s is not set: skipping the PostgreSQL replay test", mnDSNVar)
			}
			cfg := apptest.Config(t, t.TempDir())
			cfg.DB = mnCreateDatabase(t, dsn)
			cfg.AdminSecret = "replay-test-admin-secret"
			return cfg
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			cfg := st.cfg(t)
			tm := apptest.Start(t, cfg)
			r := captureSigned(t, tm.Public, tm.Admin, tm.Secret)
			tm.Stop()
			tm = apptest.Start(t, cfg)
			r.wantRefused(t, tm.Public, tm.Admin, tm.Secret)
		})
	}
}

// TestReplayRefusedAfterCrash is TestReplayRefusedAfterRestart with qun serve
// on SQLite as a process killed with SIGKILL once it has answered: a nonce is
// committed before its request is answered, not when qun shuts down.
func TestReplayRefusedAfterCrash(t *testing.T) {
	tmp := t.TempDir()
	c := &mnCluster{t: t, tmp: tmp, bin: mnBuild(t, tmp), proxy: newLBProxy()}
	t.Cleanup(func() {
		c.proxy.close()
		for _, n := range c.nodes {
			n.kill(t)
		}
	})
	secret := func(n *qunNode) string {
		b, err := os.ReadFile(filepath.Join(n.data, app.AdminSecretFile))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	n := c.start("first", "data")
	r := captureSigned(t, n.Public, n.Admin, secret(n))
	n.kill(t)
	n = c.start("after the crash", "data")
	r.wantRefused(t, n.Public, n.Admin, secret(n))
}

// captured is what captureSigned sent: the requests as they went over the
// wire, and the robot that signed some of them.
type captured struct {
	requests             []capture
	robotID, robotSecret string
}

// capture is a signed request as it went over the wire.
type capture struct {
	name, path string
	header     http.Header
	body       []byte
}

// captureSigned creates a robot, sends a signed write and a signed read as
// the robot and as the admin, each answered 0, and returns them.
func captureSigned(t *testing.T, public, adminURL, adminSecret string) captured {
	t.Helper()
	admin := client.NewAdmin(adminURL, adminSecret)
	var robot struct {
		UserID string `json:"userId"`
		Secret string `json:"secret"`
	}
	apptest.Call(t, admin, "/admin/robot/create", map[string]any{"userId": "replaybot", "name": "replaybot"}, &robot)
	rc := client.NewRobot(public, robot.UserID, robot.Secret)
	r := captured{robotID: robot.UserID, robotSecret: robot.Secret}
	for _, c := range []struct {
		name, path string
		signer     *client.Client
		body       any
	}{
		{"robot write", "/robot/group/create", rc, map[string]any{"group": map[string]any{"group_info": map[string]any{"name": "g", "type": 2}}}},
		{"robot read", "/robot/profile", rc, nil},
		{"admin write", "/admin/user/create", admin, map[string]any{"userId": "u1", "name": "u1"}},
		{"admin read", "/admin/user/get_info", admin, map[string]any{"userId": "u1"}},
	} {
		var raw []byte
		if c.body != nil {
			var err error
			if raw, err = json.Marshal(c.body); err != nil {
				t.Fatal(err)
			}
		}
		req, err := c.signer.NewRequest(context.Background(), c.path, raw)
		if err != nil {
			t.Fatal(err)
		}
		cc := capture{c.name, c.path, req.Header.Clone(), raw}
		if code := sendCaptured(t, public, adminURL, cc); code != 0 {
			t.Fatalf("%s: first send answered %d, want 0", c.name, code)
		}
		r.requests = append(r.requests, cc)
	}
	return r
}

// wantRefused replays the captured requests to a restarted qun: each gets
// 244, the replayed write changed nothing, and fresh requests of the same
// signers still work.
func (r captured) wantRefused(t *testing.T, public, adminURL, adminSecret string) {
	t.Helper()
	for _, c := range r.requests {
		if code := sendCaptured(t, public, adminURL, c); code != 244 {
			t.Errorf("%s replayed after a restart: code %d, want 244", c.name, code)
		}
	}
	admin := client.NewAdmin(adminURL, adminSecret)
	var groups struct {
		GroupIDs []string `json:"groupIds"`
	}
	apptest.Call(t, admin, "/admin/group/of_user", map[string]any{"userId": r.robotID}, &groups)
	if len(groups.GroupIDs) != 1 {
		t.Errorf("the robot is in groups %v after the replayed create, want one", groups.GroupIDs)
	}
	apptest.Call(t, client.NewRobot(public, r.robotID, r.robotSecret), "/robot/profile", nil, nil)
	apptest.Call(t, admin, "/admin/user/get_info", map[string]any{"userId": "u1"}, nil)
}

// sendCaptured posts a captured request, with its original headers, to the
// listener its path belongs to, and returns the Wildfire code of the answer.
func sendCaptured(t *testing.T, public, admin string, cc capture) int {
	t.Helper()
	base := public
	if strings.HasPrefix(cc.path, "/admin/") {
		base = admin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+cc.path, bytes.NewReader(cc.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = cc.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", cc.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d, %v: %s", cc.name, resp.StatusCode, err, b)
	}
	var env struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v: %s", cc.name, err, b)
	}
	return env.Code
}
