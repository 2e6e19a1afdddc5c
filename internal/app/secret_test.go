package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretConfig is a configuration over data; the test opens no listener.
func secretConfig(t *testing.T, data string) Config {
	t.Helper()
	cfg, err := ParseConfig([]string{"--data", data}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAdminSecretGeneratedOnceAndPrinted(t *testing.T) {
	data := t.TempDir()
	var out1, out2 bytes.Buffer
	m := NewMain(secretConfig(t, data), &out1, os.Stderr)
	s1, err := m.adminSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), s1) {
		t.Fatalf("generated secret not printed: %q", out1.String())
	}
	m = NewMain(secretConfig(t, data), &out2, os.Stderr)
	s2, err := m.adminSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 || out2.Len() != 0 {
		t.Fatalf("second start: secret %q (first %q), printed %q", s2, s1, out2.String())
	}
	fi, err := os.Stat(filepath.Join(data, AdminSecretFile))
	if err != nil {
		t.Fatalf("secret file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", fi.Mode())
	}
}
