package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary be the child qunbench memory starts: it runs
// os.Executable() serve, which here is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// tiny makes a benchmark's run as short as it goes: one round of very short
// phases, few clients.
var tiny = []string{"-duration", "100ms", "-rounds", "1", "-concurrency", "2"}

// TestBenchmarksRun runs every benchmark tiny, on SQLite and, when
// QUN_TEST_POSTGRES_DSN is set, on PostgreSQL (events there across two
// nodes too), so that they cannot rot: each must finish and print the lines
// with its ratios. It asserts nothing about the numbers.
func TestBenchmarksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark: not with -short")
	}
	type bench struct {
		name string
		args []string
		want []string // the header and the ratio lines, or parts of them
	}
	sqlite := []bench{
		{"robot", nil, []string{"qunbench robot: SQLite", "1       ratio", "all     ratio"}},
		{"nonces", nil, []string{"qunbench nonces: SQLite", "all     no-op store ÷ memory", "all     add store ÷ memory"}},
		{"events", []string{"-members", "1200"}, []string{"qunbench events: SQLite", "latency, Admin call return -> frame",
			"all     events/s ÷ calls/s without events:", "member page of 500 (group of 1202, 3 pages)"}},
		{"webhook", nil, []string{"qunbench webhook: SQLite", "latency, Admin call return -> webhook POST", "all     webhook ev/s ÷ gateway ev/s:",
			"backlog of "}},
		{"create", nil, []string{"qunbench create: SQLite", "all     create 2000 ÷ create 1, p50:", "all     member/add p99 under load ÷ idle:"}},
		{"create", []string{"-same-members"}, []string{"the same made-up ids each call", "all     create 2000 ÷ create 1, p50:"}},
		{"memory", []string{"-duration", "50ms", "-concurrency", "2"}, []string{"qunbench memory: 2 concurrent callers",
			"get_info: nested arrays", "messages: keyboard of {}", "worst peak RSS "}},
	}
	type run struct {
		store string
		bench
	}
	var runs []run
	for _, b := range sqlite {
		if b.name != "memory" {
			b.args = append(append([]string{}, tiny...), b.args...)
		}
		runs = append(runs, run{"SQLite", b})
	}
	if dsn := os.Getenv("QUN_TEST_POSTGRES_DSN"); dsn != "" {
		pg := func(b bench, args ...string) run {
			b.args = append(append(append([]string{}, tiny...), "-db", dsn), append(b.args, args...)...)
			b.want = append([]string{}, b.want...)
			b.want[0] = strings.Replace(b.want[0], "SQLite", "PostgreSQL", 1)
			return run{"PostgreSQL", b}
		}
		for _, b := range sqlite[:5] {
			runs = append(runs, pg(b))
		}
		events := pg(sqlite[2], "-nodes", "2")
		events.want[0] = "qunbench events: PostgreSQL, 2 node(s) (writes to node 1, the bot on node 2)"
		runs = append(runs, events)
	} else {
		t.Log("QUN_TEST_POSTGRES_DSN is not set: the benchmarks run on SQLite only")
	}
	for _, r := range runs {
		t.Run(r.store+" "+r.name+" "+strings.Join(r.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runArgs(t, r.name, r.args, &stdout, &stderr); code != 0 {
				t.Fatalf("qunbench %s: exit %d\nstdout:\n%s\nstderr:\n%s", r.name, code, &stdout, &stderr)
			}
			out := stdout.String()
			for _, w := range r.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("a ratio of nothing:\n%s", out)
			}
		})
	}
}

// runArgs runs qunbench name args, its data in a temporary directory.
func runArgs(t *testing.T, name string, args []string, stdout, stderr *bytes.Buffer) int {
	if name != "memory" && name != "serve" {
		args = append([]string{"-data", t.TempDir()}, args...)
	}
	return run(context.Background(), append([]string{name}, args...), func(string) string { return "" }, stdout, stderr)
}

// TestUsageErrors checks that bad command lines are refused with exit 2 and
// a message, before anything is started.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frob"}, `unknown benchmark "frob"`},
		{[]string{"events", "-nodes", "2"}, "-nodes is 1, or 2 with -db"},
		{[]string{"events", "-nodes", "3", "-db", "postgres://x"}, "-nodes is 1, or 2 with -db"},
		{[]string{"events", "-members", "0"}, "-members is at least 1"},
		{[]string{"robot", "-cpuprofile", "x", "-phaseprofile", "y"}, "-cpuprofile or -phaseprofile, not both"},
		{[]string{"robot", "-rounds", "x"}, "invalid value"},
		{[]string{"serve", "--db", "mysql://x"}, "give a postgres:// URL"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), tc.args, func(string) string { return "" }, &out, &out); code != 2 || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, output %q; want exit 2 containing %q", code, out.String(), tc.want)
			}
		})
	}
}

// decodeHead reads what encoding/json reads of op, s and t from the frames
// the gateway writes, and declines every other shape.
func TestDecodeHead(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"op":0,"s":12,"t":"GROUP_AT_MESSAGE_CREATE","id":"GROUP_AT_MESSAGE_CREATE:00","d":{"content":" hi"}}`, true},
		{`{"op":0,"s":1,"t":"READY","d":{"version":1}}`, true},
		{`{"op":11}`, false},
		{`{"op":10,"d":{"heartbeat_interval":41250}}`, false},
		{`{"s":3,"op":0,"t":"X","d":null}`, false},
		{`{"op":0,"s":3,"t":"A\"B","d":null}`, false},
		{`{"op":0,"s":-3,"t":"X","d":null}`, false},
		{`{"op":0,"s":99999999999999999999,"t":"X","d":null}`, false},
		{`{"op":0, "s":3,"t":"X","d":null}`, false},
	} {
		f, ok := decodeHead([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		var want frame
		if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
			t.Fatal(err)
		}
		if f.Op != want.Op || f.S != want.S || f.T != want.T {
			t.Errorf("%s: op %d s %d t %q, encoding/json reads op %d s %d t %q", tc.in, f.Op, f.S, f.T, want.Op, want.S, want.T)
		}
	}
}
