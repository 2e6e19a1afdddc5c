package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// TestLogFormat starts qun with each format and reads its start line back.
// (TestJSONLogs checks that every line of the json format parses.)
func TestLogFormat(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			vars := map[string]string{"QUN_LOG_FORMAT": format}
			cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", t.TempDir()},
				func(k string) string { return vars[k] }, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			m := NewMain(cfg, &stdout, &stderr)
			if err := m.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // serve nothing: shut down at once
			if err := m.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			// The start line; the migrations applied are logged before it.
			var first string
			for _, l := range strings.Split(stderr.String(), "\n") {
				if strings.Contains(l, "qun listening") {
					first = l
					break
				}
			}
			var line struct {
				Level, Msg, Public string
			}
			switch format {
			case "json":
				if err := json.Unmarshal([]byte(first), &line); err != nil || line.Level != "INFO" || line.Msg != "qun listening" || line.Public == "" {
					t.Fatalf("first line %q: %+v, %v", first, line, err)
				}
			case "text":
				if !strings.HasPrefix(first, "time=") || !strings.Contains(first, `level=INFO msg="qun listening" public=127.0.0.1:`) {
					t.Fatalf("first line %q", first)
				}
			}
		})
	}
	if _, err := ParseConfig([]string{"--log-format", "logfmt"}, func(string) string { return "" }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), `log-format "logfmt" is not text or json`) {
		t.Fatalf("a bad format: %v", err)
	}
}
