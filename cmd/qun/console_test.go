package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// consoleClient signs the operator in to the console of tm and returns a
// client holding the session.
func consoleClient(t *testing.T, tm *apptest.Main) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(tm.Admin + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form: %s", page)
	}
	resp, err = hc.PostForm(tm.Admin+"/signin", url.Values{"csrf": {string(m[1])}, "secret": {tm.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="overview"`) {
		t.Fatalf("sign-in: HTTP %d: %s", resp.StatusCode, body)
	}
	return hc
}

// A live timeline stream ends when qun shuts down: graceful shutdown waits
// for requests in flight, and a stream would otherwise hold it.
func TestShutdownEndsConsoleStreams(t *testing.T) {
	cfg := apptest.Config(t, t.TempDir())
	var stdout, stderr syncBuffer
	m := app.NewMain(cfg, &stdout, &stderr)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- m.Run(runCtx) }()
	_, adm := m.Server.Addrs()
	secret, err := os.ReadFile(filepath.Join(cfg.Data, app.AdminSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	tm := &apptest.Main{Main: m, Admin: "http://" + adm, Secret: strings.TrimSpace(string(secret))}
	if _, err := tm.Service.PutUser(context.Background(), group.User{ID: "alice", Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Service.CreateGroup(context.Background(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Owner: "alice"}}); err != nil {
		t.Fatal(err)
	}
	hc := consoleClient(t, tm)
	ctx, cancel := context.WithTimeout(context.Background(), exampleWait) // a hang becomes a failure
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tm.Admin+"/groups/g/stream?after=0", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "data: ") {
	}
	stop()
	for lines.Scan() {
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("the stream did not end cleanly at shutdown: %v", err)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	// A shutdown that had to give up on a request in flight logs it.
	if log := stderr.String(); strings.Contains(log, "msg=shutdown") {
		t.Errorf("shutdown waited for the stream until it gave up:\n%s", log)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's and the test's goroutines.
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
