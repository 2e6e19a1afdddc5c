package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
)

// testMain is a running qun on port 0 over a data directory: package app's
// wiring, which qun serve runs, for the tests of the commands that talk to it.
type testMain struct {
	*app.Main
	stopMain func() error
	Public   string // http://host:port
	Admin    string
	Secret   string
}

func testConfig(t *testing.T, data string) app.Config {
	t.Helper()
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--robot-rate", "0"}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startMain runs the real wiring until the test ends or stop is called.
func startMain(t *testing.T, cfg app.Config) *testMain {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := app.NewMain(cfg, &stdout, &stderr)
	stop, err := m.Start(context.Background())
	if err != nil {
		t.Fatalf("open: %v\n%s", err, stderr.String())
	}
	tm := &testMain{Main: m, stopMain: stop, Secret: m.AdminSecret}
	pub, adm := m.Server.Addrs()
	tm.Public, tm.Admin = "http://"+pub, "http://"+adm
	t.Cleanup(tm.stop)
	return tm
}

// stop shuts qun down gracefully; calling it twice is fine.
func (tm *testMain) stop() {
	if tm.stopMain == nil {
		return
	}
	stop := tm.stopMain
	tm.stopMain = nil
	if err := stop(); err != nil {
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

func TestCommandLine(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"version", []string{"version"}, nil, 0, "qun "},
		{"no command", nil, nil, 2, "Usage"},
		{"unknown command", []string{"frob"}, nil, 2, "unknown command"},
		{"other database rejected", []string{"serve", "--db", "mysql://u:pw@localhost/db"}, nil, 2, "give a postgres:// URL"},
		{"other database from env rejected", []string{"serve"}, map[string]string{"QUN_DB": "sqlite:///tmp/x"}, 2, "give a postgres:// URL"},
		{"bad rate", []string{"serve", "--robot-rate", "x"}, nil, 2, "not an integer"},
		{"bad env duration", []string{"serve"}, map[string]string{"QUN_SIGN_WINDOW": "soon"}, 2, "QUN_SIGN_WINDOW"},
		{"stray argument", []string{"serve", "now"}, nil, 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Run(context.Background(), tc.args, env(tc.env), &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Fatalf("exit %d, output %q; want exit %d containing %q", code, out.String(), tc.code, tc.out)
			}
			if strings.Contains(out.String(), "pw@") {
				t.Fatalf("password printed: %q", out.String())
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if out.String() != app.ReadVersion(Version).String() {
		t.Fatalf("qun version printed %q, want %q", out.String(), app.ReadVersion(Version).String())
	}
}
