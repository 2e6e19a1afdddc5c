// Package apptest runs package app's wiring for tests: the real qun on
// loopback port 0 over a test's temporary directory, stopped when the test
// ends. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
)

// Config is qun serve's default configuration on loopback port 0 over data,
// without the Robot API's rate limit.
func Config(t testing.TB, data string) app.Config {
	t.Helper()
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--robot-rate", "0"}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Main is a running qun and where its clients reach it.
type Main struct {
	*app.Main
	Public string // http://host:port
	Admin  string
	Secret string // the Admin API's

	stop func() error
}

// Start runs the real wiring of cfg until the test ends or Stop is called.
func Start(t testing.TB, cfg app.Config) *Main {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := app.NewMain(cfg, &stdout, &stderr)
	stop, err := m.Start(context.Background())
	if err != nil {
		t.Fatalf("open: %v\n%s", err, stderr.String())
	}
	pub, adm := m.Server.Addrs()
	tm := &Main{Main: m, Public: "http://" + pub, Admin: "http://" + adm, Secret: m.AdminSecret, stop: stop}
	t.Cleanup(tm.Stop)
	return tm
}

// Stop shuts qun down gracefully; calling it twice is fine.
func (tm *Main) Stop() {
	if tm.stop == nil {
		return
	}
	stop := tm.stop
	tm.stop = nil
	if err := stop(); err != nil {
		panic(err)
	}
}

// Call makes a Wildfire call (Robot or Admin API) that must succeed.
func Call(t testing.TB, c *client.Client, path string, body, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := c.Call(ctx, path, body, result)
	if err != nil || code != 0 {
		t.Fatalf("%s: code %d, err %v", path, code, err)
	}
}
