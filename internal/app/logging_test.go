package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
)

// logRecords parses every line of a JSON log; a line that is not a JSON
// object fails the test.
func logRecords(t *testing.T, log []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// byMsg returns the records with message msg.
func byMsg(recs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

func TestJSONLogs(t *testing.T) {
	data := t.TempDir()
	cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--log-format", "json"},
		func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	m := NewMain(cfg, &stdout, &stderr)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub, adm := m.Server.Addrs()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	recs := logRecords(t, stderr.Bytes())
	if n := len(byMsg(recs, "sqlite: migration applied")); n == 0 {
		t.Errorf("no migration logged:\n%s", stderr.String())
	}
	started := byMsg(recs, "qun listening")
	if len(started) != 1 {
		t.Fatalf("%d start lines, want 1:\n%s", len(started), stderr.String())
	}
	for k, want := range map[string]string{"version": ReadVersion("").Version, "public": pub, "admin": adm, "store": "sqlite"} {
		if got := started[0][k]; got != want {
			t.Errorf("start line %s = %v, want %q", k, got, want)
		}
	}
	for _, msg := range []string{"qun shutting down", "qun stopped"} {
		if len(byMsg(recs, msg)) != 1 {
			t.Errorf("no %q line:\n%s", msg, stderr.String())
		}
	}
}
