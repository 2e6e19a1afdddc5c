package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/app"
)

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
		{"bench moved out", []string{"bench", "robot", "-rounds", "1"}, nil, 2, "go run ./cmd/qunbench robot -rounds 1"},
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

// TestHelpOnStdout: qun serve -h and qun backup -h print on stdout, as every
// client command's -h does (so that | less works), and a flag mistake on stderr.
func TestHelpOnStdout(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "-h"}, "Usage: qun serve [flags]"},
		{[]string{"serve", "--help"}, "QUN_ADMIN_SECRET_FILE"},
		{[]string{"backup", "-h"}, "Usage: qun backup"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Run(context.Background(), tc.args, noEnv, &stdout, &stderr); code != 0 || stderr.Len() != 0 || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("qun %v: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
	}
	for _, args := range [][]string{{"serve", "--frob"}, {"backup", "--frob", "f"}} {
		var stdout, stderr bytes.Buffer
		if code := Run(context.Background(), args, noEnv, &stdout, &stderr); code != 2 || stdout.Len() != 0 ||
			!strings.HasPrefix(stderr.String(), "flag provided but not defined: -frob\n") {
			t.Errorf("qun %v: exit %d, stdout %q, stderr %q; want exit 2 and the mistake on stderr", args, code, stdout.String(), stderr.String())
		}
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
