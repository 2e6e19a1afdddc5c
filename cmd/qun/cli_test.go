package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
)

// cliResult is what one run of the command line printed and returned.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cliEnv runs the real command line (Run, as main does) against a qun.
type cliEnv struct {
	t    *testing.T
	vars map[string]string
}

func (e *cliEnv) getenv(k string) string { return e.vars[k] }

// run runs qun args with ctx and the environment's variables.
func (e *cliEnv) runContext(ctx context.Context, args ...string) cliResult {
	var out, errb bytes.Buffer
	code := Run(ctx, args, e.getenv, &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

func (e *cliEnv) run(args ...string) cliResult {
	return e.runContext(context.Background(), args...)
}

// ok runs qun args, wants exit 0 and nothing on stderr, and returns stdout.
func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("qun %s: exit %d, stderr %q, stdout %q", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// okJSON runs qun args and decodes what it printed into v.
func (e *cliEnv) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("qun %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// fails runs qun args and wants exit code, nothing on stdout and stderr.
func (e *cliEnv) fails(code int, stderr string, args ...string) {
	e.t.Helper()
	r := e.run(args...)
	if r.code != code || r.stdout != "" || r.stderr != stderr {
		e.t.Fatalf("qun %s: exit %d, stdout %q, stderr %q; want exit %d, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, code, stderr)
	}
}

// timeOfDay is the local time in the timeline's text lines.
var timeOfDay = regexp.MustCompile(`(?m)^(\d+) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d `)

// TestCLIEndToEnd drives the client commands against a real qun serve on
// port 0, as an operator would: a user, a robot (connected to the gateway
// with the appId and appSecret qun robot create printed), a group with the
// robot, a message mentioning it, the timeline; and failing calls' exit
// codes and messages.
func TestCLIEndToEnd(t *testing.T) {
	data := t.TempDir()
	tm := apptest.Start(t, apptest.Config(t, data))
	// The address as qun serve takes it (host:port) and the secret from the data directory.
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_ADDR": strings.TrimPrefix(tm.Admin, "http://"), "QUN_DATA": data}}

	if out := e.ok("user", "create", "--id", "alice", "--name", "alice", "--display-name", "Alice"); out != "{\n  \"userId\": \"alice\"\n}\n" {
		t.Fatalf("user create printed %q", out)
	}
	var alice client.User
	e.okJSON(&alice, "user", "get", "alice")
	if alice.UserID != "alice" || alice.DisplayName != "Alice" {
		t.Fatalf("user get = %+v", alice)
	}

	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "echo", "--name", "echo", "--display-name", "Echo", "--owner", "alice")
	if creds.UserID != "echo" || creds.Secret == "" || creds.AppID == "" || creds.AppSecret == "" {
		t.Fatalf("robot create = %+v", creds)
	}
	e.ok("robot", "ice-breaker", "echo", "Hi,", "I am Echo")
	var robot client.Robot
	e.okJSON(&robot, "robot", "get", "echo")
	if robot.Secret != creds.Secret || robot.AppID != creds.AppID || robot.AppSecret != creds.AppSecret ||
		robot.Owner != "alice" || !robot.IceBreaker.Enabled || robot.IceBreaker.Payload.SearchableContent != "Hi, I am Echo" {
		t.Fatalf("robot get = %+v", robot)
	}

	// The bot logs in with what robot create printed.
	gw := mnRawDial(t, "the robot's gateway", &qunNode{Public: tm.Public})
	gw.identify(mnToken(t, "the robot's token", tm.Public, creds.AppID, creds.AppSecret))

	var created map[string]string
	e.okJSON(&created, "group", "create", "--id", "team", "--name", "team", "--owner", "alice", "echo", "bob")
	if created["group_id"] != "team" {
		t.Fatalf("group create = %v", created)
	}
	var info client.GroupInfo
	e.okJSON(&info, "group", "get", "team")
	if info.Name != "team" || info.Owner != "alice" || info.Type != DefaultGroupType {
		t.Fatalf("group get = %+v", info)
	}
	e.ok("group", "add", "team", "carol")
	e.ok("group", "kick", "team", "carol")
	var members []client.Member
	e.okJSON(&members, "group", "members", "team")
	var ids []string
	for _, m := range members {
		ids = append(ids, fmt.Sprintf("%s/%d", m.MemberID, m.Type))
	}
	if got := strings.Join(ids, " "); got != "alice/2 echo/0 bob/0" {
		t.Fatalf("group members = %s", got)
	}

	var sent client.Sent
	e.okJSON(&sent, "send", "--from", "alice", "--group", "team", "--mention", "echo", "@Echo ping")
	if sent.MessageUID == 0 || sent.Timestamp == 0 {
		t.Fatalf("send = %+v", sent)
	}
	// The bot was told it joined, then got the mention.
	var types []string
	for len(types) < 2 {
		f, err := gw.read()
		if err != nil {
			t.Fatalf("gateway after %v: %v", types, err)
		}
		types = append(types, f.T)
		if f.T == "GROUP_AT_MESSAGE_CREATE" {
			var d struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(f.D, &d) != nil || d.Content != " ping" {
				t.Fatalf("GROUP_AT_MESSAGE_CREATE %s", f.D)
			}
		}
	}
	if got := strings.Join(types, " "); got != "GROUP_ADD_ROBOT GROUP_AT_MESSAGE_CREATE" {
		t.Fatalf("the bot got %s", got)
	}

	wantTimeline := `1 T -: [created the group "team"]
2 T echo: Hi, I am Echo
3 T -: [added carol]
4 T -: [removed carol]
5 T alice: @Echo ping
`
	if got := timeOfDay.ReplaceAllString(e.ok("timeline", "team"), "$1 T "); got != wantTimeline {
		t.Fatalf("timeline:\n%s\nwant:\n%s", got, wantTimeline)
	}
	var last client.Message
	e.okJSON(&last, "timeline", "team", "--after", "4", "--json")
	if last.Seq != 5 || last.Sender != "alice" || last.MessageUID != sent.MessageUID ||
		last.Payload.MentionedType != client.MentionSome || fmt.Sprint(last.Payload.MentionedTarget) != "[echo]" {
		t.Fatalf("timeline --json = %+v", last)
	}
	if got := e.ok("timeline", "team", "--max", "2", "--json"); strings.Count(got, "\n") != 2 {
		t.Fatalf("--max 2 printed %q", got)
	}

	// --follow prints what comes after it started and stops after --max.
	followed := make(chan cliResult, 1)
	go func() {
		followed <- e.run("timeline", "team", "--follow", "--after", "5", "--max", "1", "--interval", "10ms")
	}()
	e.ok("send", "--from", "bob", "--group", "team", "later")
	r := waitResult(t, followed)
	if r.code != 0 || r.stderr != "" || timeOfDay.ReplaceAllString(r.stdout, "$1 T ") != "6 T bob: later\n" {
		t.Fatalf("timeline --follow --max 1: %+v", r)
	}
	// Interrupted (Ctrl-C cancels Run's context), --follow ends normally.
	ctx, interrupt := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	followed = make(chan cliResult, 1)
	go func() {
		var errb bytes.Buffer
		code := Run(ctx, []string{"timeline", "team", "--follow", "--after", "5", "--interval", "10ms"}, e.getenv, out, &errb)
		followed <- cliResult{code, out.String(), errb.String()}
	}()
	mnWaitFor(t, "--follow printed what there was", func() bool { return strings.Contains(out.String(), "bob: later") })
	interrupt()
	if r := waitResult(t, followed); r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("interrupted --follow: %+v", r)
	}

	// Any call, signed as the admin or as the robot.
	var got client.User
	e.okJSON(&got, "call", "user/get_info", `{"userId":"alice"}`)
	if got.UserID != "alice" || got.Name != "alice" {
		t.Fatalf("call user/get_info = %+v", got)
	}
	e.okJSON(&got, "call", "--robot", "echo", "--secret", creds.Secret, "--addr", tm.Public, "profile")
	if got.UserID != "echo" || got.Type != 1 {
		t.Fatalf("call --robot profile = %+v", got)
	}
	e.vars["QUN_ROBOT_SECRET"], e.vars["QUN_ADDR"] = creds.Secret, strings.TrimPrefix(tm.Public, "http://")
	var listed struct {
		Members []client.Member `json:"members"`
	}
	e.okJSON(&listed, "call", "--robot", "echo", "/robot/group/member/list", `{"group_id":"team"}`)
	if len(listed.Members) != 3 {
		t.Fatalf("call --robot group/member/list = %+v", listed)
	}
	var intents struct {
		Intents int64 `json:"intents"`
	}
	e.okJSON(&intents, "call", "robot/intents", `{"robotId":"echo","intents":33554432}`)
	if intents.Intents != 1<<25 {
		t.Fatalf("call robot/intents = %+v", intents)
	}
	if out := e.ok("call", "group/member/del", `{"group_id":"team","members":["bob"]}`); out != "" {
		t.Fatalf("a call without a result printed %q", out)
	}
	var stdout, stderr bytes.Buffer
	if code := runClient(context.Background(), []string{"call", "/admin/group/get_info", "-"}, e.getenv, strings.NewReader(`{"group_id":"team"}`), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), `"target_id": "team"`) {
		t.Fatalf("call with the body on stdin: exit %d, %q, %q", code, stdout.String(), stderr.String())
	}

	// Refused calls: exit 1, the code and message on stderr, nothing on stdout.
	e.fails(1, "qun group get: code 253: not exist: group \"nope\" not found\n", "group", "get", "nope")
	e.fails(1, "qun call: code 253: not exist: group \"nope\" not found\n", "call", "group/get_info", `{"group_id":"nope"}`)
	e.fails(1, "qun group kick: code 248: no right to operate: the owner cannot be removed\n", "group", "kick", "--operator", "echo", "team", "alice")
	// A refused signature says which secret signed it: here --admin-secret, then the
	// generated secret of another qun's data directory (a common slip).
	adminAddr := e.vars["QUN_ADMIN_ADDR"]
	e.fails(1, "qun call: code 244: auth failure: sign is not sha1(nonce|secret|timestamp) in lower-case hex\n"+
		"qun call: the admin secret from --admin-secret is not the one of the qun serve at "+adminAddr+"; give the one it printed on its first start (on PostgreSQL it is kept in the database, not in --data)\n",
		"call", "--admin-secret", "wrong", "user/get_info", `{"userId":"alice"}`)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, app.AdminSecretFile), []byte("another-qun\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.fails(1, "qun user get: code 244: auth failure: sign is not sha1(nonce|secret|timestamp) in lower-case hex\n"+
		"qun user get: the admin secret from "+filepath.Join(other, app.AdminSecretFile)+" is not the one of the qun serve at "+adminAddr+"; give the one it printed on its first start (on PostgreSQL it is kept in the database, not in --data)\n",
		"user", "get", "alice", "--data", other)
	e.fails(1, "qun call: code 251: Invalid parameter: name is missing\n", "call", "user/create", `{"userId":"x"}`)
	e.fails(1, "qun send: code 9: not in group: mallory is not a member of team\n", "send", "--from", "mallory", "--group", "team", "hi")
	e.fails(1, "qun call: code 244: auth failure: sign is not sha1(nonce|secret|timestamp) in lower-case hex\n"+
		"qun call: the robot secret (--secret, QUN_ROBOT_SECRET) is not echo's; 'qun robot get echo' prints it\n", "call", "--robot", "echo", "--secret", "wrong", "profile")
	e.fails(1, `qun call: client: /admin/nope: HTTP 404: {"code":254,"msg":"not implement"}`+"\n", "call", "nope")
	// An unreachable qun: the dial error, then what to check.
	if r := e.run("user", "get", "alice", "--admin-addr", "127.0.0.1:1"); r.code != 1 || !strings.Contains(r.stderr, "connection refused") ||
		!strings.HasSuffix(r.stderr, "\nqun user get: nothing listens at 127.0.0.1:1: is qun serve running, and is that its address (--admin-addr, QUN_ADMIN_ADDR)?\n") {
		t.Fatalf("unreachable qun: %+v", r)
	}
	if r := e.run("call", "--robot", "echo", "--addr", "127.0.0.1:1", "profile"); r.code != 1 ||
		!strings.HasSuffix(r.stderr, "\nqun call: nothing listens at 127.0.0.1:1: is qun serve running, and is that its address (--addr, QUN_ADDR)?\n") {
		t.Fatalf("unreachable qun, robot call: %+v", r)
	}
	e.fails(2, "qun call: the body is not JSON: \"{userId:alice}\" (quote it for the shell: '{\"userId\":\"alice\"}')\nRun 'qun call -h' for help.\n",
		"call", "user/get_info", "{userId:alice}")
}

// waitResult waits for a command run in another goroutine; the bound only
// turns a hang into a failure.
func waitResult(t *testing.T, ch <-chan cliResult) cliResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Minute):
		t.Fatal("the command did not end")
		return cliResult{}
	}
}

func TestCLIUsageErrors(t *testing.T) {
	// A secret and an address nothing listens on: these must fail before any call.
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_SECRET": "s", "QUN_ADMIN_ADDR": "127.0.0.1:1"}}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "create"}, "qun user create: --name is required\n"},
		{[]string{"user", "get"}, "qun user get: want USER, got 0 argument(s)\n"},
		{[]string{"user", "get", "a", "b"}, "qun user get: want USER, got 2 argument(s)\n"},
		{[]string{"user", "get", "--frob", "a"}, "qun user get: flag provided but not defined: -frob\n"},
		{[]string{"robot", "ice-breaker", "echo"}, "qun robot ice-breaker: want ROBOT TEXT..., or --off ROBOT\n"},
		{[]string{"robot", "ice-breaker", "--off", "echo", "hi"}, "qun robot ice-breaker: --off takes no TEXT\n"},
		{[]string{"robot", "webhook", "echo"}, "qun robot webhook: want ROBOT URL, or --off ROBOT\n"},
		{[]string{"robot", "webhook", "--off", "echo", "http://x/"}, "qun robot webhook: --off takes no URL\n"},
		{[]string{"robot", "webhook", "echo", "http://x/", "--intents", "-1"}, "qun robot webhook: --intents -1 is negative\n"},
		{[]string{"robot", "webhook", "echo", "http://x/", "y"}, "qun robot webhook: want ROBOT URL, got 3 argument(s)\n"},
		{[]string{"robot", "deliveries"}, "qun robot deliveries: want ROBOT, got 0 argument(s)\n"},
		{[]string{"robot", "deliveries", "echo", "--limit", "x"}, "qun robot deliveries: invalid value \"x\" for flag -limit: parse error\n"},
		{[]string{"robot", "redeliver", "echo"}, "qun robot redeliver: --from SEQ is required (0 or more)\n"},
		{[]string{"robot", "redeliver", "echo", "--from", "x"}, "qun robot redeliver: invalid value \"x\" for flag -from: parse error\n"},
		{[]string{"robot", "redeliver", "echo", "--from", "-2"}, "qun robot redeliver: --from SEQ is required (0 or more)\n"},
		{[]string{"robot", "redeliver", "echo", "--from", "1", "--stream", "gateway"}, "qun robot redeliver: --stream \"gateway\": want webhook or callback\n"},
		{[]string{"group", "create", "--id", "g", "--owner", "alice"}, "qun group create: --name is required\n"},
		{[]string{"group", "create", "--name", "g"}, "qun group create: give either --owner (the server creates the group for that owner) or --operator (that user creates it)\n"},
		{[]string{"group", "add", "g"}, "qun group add: want GROUP MEMBER..., got 1 argument(s)\n"},
		{[]string{"send", "--group", "g", "hi"}, "qun send: --from and --group are required\n"},
		{[]string{"send", "--from", "a", "--group", "g"}, "qun send: want TEXT..., got 0 argument(s)\n"},
		{[]string{"timeline", "g", "--interval", "0s"}, "qun timeline: --interval must be positive, --max and --after 0 or more\n"},
		{[]string{"timeline", "g", "--max", "x"}, "qun timeline: invalid value \"x\" for flag -max: parse error\n"},
		{[]string{"call"}, "qun call: want PATH [JSON|-], got 0 argument(s)\n"},
		{[]string{"call", "--robot", "echo", "profile"}, "qun call: --robot needs the robot's secret: --secret or QUN_ROBOT_SECRET\n"},
		{[]string{"call", "--admin-addr", "nowhere", "profile"}, "qun call: admin-addr: \"nowhere\" is neither host:port nor a URL\n"},
		{[]string{"completion", "zsh"}, "qun completion: want bash (zsh users: autoload bashcompinit && bashcompinit first)\n"},
		{[]string{"help", "frob"}, "qun help: no command \"frob\"; 'qun help' lists them\n"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			e.t = t
			name := tc.args[0]
			if isNoun(name) {
				name += " " + tc.args[1]
			}
			e.fails(2, tc.want+"Run 'qun "+name+" -h' for help.\n", tc.args...)
		})
	}
	// A noun without its command lists the commands.
	e.t = t
	if r := e.run("group"); r.code != 2 || !strings.Contains(r.stderr, "qun group members") {
		t.Fatalf("qun group: %+v", r)
	}
	if r := e.run("group", "frob"); r.code != 2 || !strings.HasPrefix(r.stderr, "qun group: unknown command \"frob\"\n") {
		t.Fatalf("qun group frob: %+v", r)
	}
	if r := e.run("group", "-h"); r.code != 0 || !strings.Contains(r.stdout, "qun group kick") {
		t.Fatalf("qun group -h: %+v", r)
	}
}

func isNoun(word string) bool {
	for _, n := range cliNouns {
		if n == word {
			return true
		}
	}
	return false
}

func TestCLIHelp(t *testing.T) {
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_SECRET": "do-not-print"}}
	help := e.ok("help")
	if help != usage {
		t.Fatalf("qun help printed %q, want the usage", help)
	}
	for _, c := range cliCommands {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			e.t = t
			words := strings.Fields(c.name)
			line := ""
			for _, l := range strings.Split(usage, "\n") {
				if strings.HasPrefix(l, "  qun "+words[0]) {
					line = l
				}
			}
			if line == "" || (len(words) == 2 && !strings.Contains(line, words[1])) {
				t.Fatalf("qun help does not list %q", c.name)
			}
			out := e.ok(append(words, "-h")...)
			if !strings.HasPrefix(out, "Usage: qun "+c.name+" ") || !strings.Contains(out, "\nExamples:\n  qun ") {
				t.Fatalf("qun %s -h printed:\n%s", c.name, out)
			}
			if strings.Contains(out, "do-not-print") {
				t.Fatal("-h printed the secret")
			}
			// A required flag shows no default (a sentinel such as -1 would read as one).
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "(required)") && strings.Contains(l, "(default ") {
					t.Errorf("-h shows a default for a required flag: %q", l)
				}
			}
			if got := e.ok(append([]string{"help"}, words...)...); got != out {
				t.Fatalf("qun help %s differs from -h:\n%s", c.name, got)
			}
			for _, ex := range c.examples {
				if !strings.HasPrefix(ex, "qun "+c.name) && !strings.Contains(ex, "qun "+c.name) {
					t.Errorf("example %q is not of qun %s", ex, c.name)
				}
			}
		})
	}
	e.t = t
	if out := e.ok("help", "serve"); !strings.Contains(out, "-admin-addr") || !strings.Contains(out, "QUN_DB") {
		t.Fatalf("qun help serve printed %q", out)
	}
}

func TestAdminSecretFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, app.AdminSecretFile), []byte("from-data\n"), 0o600)
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	// What qun serve --db leaves in its data directory: the node's name, no secret.
	nodeDir := t.TempDir()
	os.WriteFile(filepath.Join(nodeDir, app.NodeFile), []byte("node-1\n"), 0o600)
	for _, tc := range []struct {
		name string
		flag string
		vars map[string]string
		want string // the secret, or the error
	}{
		{"flag wins", "from-flag", map[string]string{"QUN_ADMIN_SECRET": "from-env", "QUN_DATA": dir}, "from-flag"},
		{"variable", "", map[string]string{"QUN_ADMIN_SECRET": "from-env", "QUN_ADMIN_SECRET_FILE": file, "QUN_DATA": dir}, "from-env"},
		{"file variable", "", map[string]string{"QUN_ADMIN_SECRET_FILE": file, "QUN_DATA": dir}, "from-file"},
		{"data directory", "", map[string]string{"QUN_DATA": dir}, "from-data"},
		{"missing file", "", map[string]string{"QUN_ADMIN_SECRET_FILE": filepath.Join(dir, "none")}, "QUN_ADMIN_SECRET_FILE: open "},
		{"no data directory", "", map[string]string{"QUN_DATA": filepath.Join(dir, "none")}, "no admin secret: give --admin-secret or QUN_ADMIN_SECRET, or --data with qun serve's data directory (open "},
		{"postgres", "", map[string]string{"QUN_DATA": filepath.Join(dir, "none"), "QUN_DB": "postgres://x"}, "no admin secret: on PostgreSQL qun keeps its generated secret in the database; give --admin-secret or QUN_ADMIN_SECRET"},
		{"a postgres node's data directory", "", map[string]string{"QUN_DATA": nodeDir}, "no admin secret in " + nodeDir + ": a node on PostgreSQL keeps the generated one in the database (and one started with --admin-secret keeps none); give --admin-secret or QUN_ADMIN_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"user", "get", "--admin-addr", "127.0.0.1:1", "u"}
			if tc.flag != "" {
				args = append(args, "--admin-secret", tc.flag)
			}
			r := &cliRun{cmd: &cliCommands[0], getenv: func(k string) string { return tc.vars[k] }}
			fs := r.flagSet()
			if _, err := parseInterspersed(fs, args[2:]); err != nil {
				t.Fatal(err)
			}
			got, err := r.resolveAdminSecret()
			if err != nil {
				got = err.Error()
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:18080", "http://127.0.0.1:18080"},
		{":18080", "http://127.0.0.1:18080"},
		{"[::1]:18080", "http://[::1]:18080"},
		{"qun.internal:18080", "http://qun.internal:18080"},
		{"https://qun.example/admin/", "https://qun.example/admin"},
		{"nowhere", "error"},
	} {
		got, err := baseURL(tc.addr)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("baseURL(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	for _, tc := range []struct{ path, door, want string }{
		{"user/create", "admin", "/admin/user/create"},
		{"/group/get_info", "admin", "/admin/group/get_info"},
		{"/admin/group/messages", "admin", "/admin/group/messages"},
		{"profile", "robot", "/robot/profile"},
		{"robot/profile", "robot", "/robot/profile"},
		// The Admin API's robot routes, given as its other routes are.
		{"robot/reset_secret", "admin", "/admin/robot/reset_secret"},
		{"/robot/intents", "admin", "/admin/robot/intents"},
		{"/admin/robot/webhook", "admin", "/admin/robot/webhook"},
	} {
		if got := callPath(tc.path, tc.door); got != tc.want {
			t.Errorf("callPath(%q, %s) = %q, want %q", tc.path, tc.door, got, tc.want)
		}
	}
}

// TestBashCompletion loads the script into a real bash and asks it to complete.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on PATH")
	}
	var script bytes.Buffer
	if code := Run(context.Background(), []string{"completion", "bash"}, func(string) string { return "" }, &script, io.Discard); code != 0 {
		t.Fatalf("qun completion bash: exit %d", code)
	}
	for _, tc := range []struct {
		line string // the words typed; the last is being completed
		want string
	}{
		{"qun gr", "group"},
		{"qun ", "serve version call user robot group send timeline help completion"},
		{"qun group ", "create get members add kick"},
		{"qun robot i", "ice-breaker intents"},
		{"qun robot ", "create get ice-breaker reset-secret intents webhook deliveries redeliver sessions"},
		{"qun robot webhook echo --in", "--intents"},
		{"qun robot redeliver echo --f", "--from"},
		{"qun group create --na", "--name"},
		{"qun group create --name x --ow", "--owner"},
		{"qun timeline team --fo", "--follow"},
		{"qun call --rob", "--robot"},
		{"qun send --from alice --me", "--mention"},
		{"qun serve --admin-s", "--admin-secret"},
	} {
		words := strings.Split(tc.line, " ")
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = fmt.Sprintf("%q", w)
		}
		prog := fmt.Sprintf("%s\nCOMP_WORDS=(%s); COMP_CWORD=%d; _qun; echo \"${COMPREPLY[*]}\"", script.String(), strings.Join(quoted, " "), len(words)-1)
		out, err := exec.Command(bash, "--norc", "-c", prog).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("completing %q: %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

func TestEntryText(t *testing.T) {
	for _, tc := range []struct {
		p    client.Payload
		want string
	}{
		{client.Text("hi\nthere"), "hi there"},
		{client.Payload{Type: 3, Content: "img"}, "[type 3] img"},
		{client.Payload{Type: 1900, Content: `{"msg_type":2}`}, `[type 1900] {"msg_type":2}`},
		{client.Payload{Type: 109, Data: []byte(`{"g":"g","o":"a","m":"bob"}`)}, "[transferred the group to bob]"},
		{client.Payload{Type: 111, Data: []byte(`{"g":"g","o":"a","n":"Bobby","m":"bob"}`)}, `[set an alias bob "Bobby"]`},
		{client.Payload{Type: 105, Data: []byte(`not json`)}, "[added]"},
		// Switches read by their value, as in the console.
		{client.Payload{Type: 118, Data: []byte(`{"g":"g","o":"","n":"1","ms":["bob","carol"]}`)}, "[muted bob, carol]"},
		{client.Payload{Type: 118, Data: []byte(`{"g":"g","o":"","n":"0","ms":["bob"]}`)}, "[unmuted bob]"},
		{client.Payload{Type: 117, Data: []byte(`{"g":"g","o":"a","n":"1","ms":["bob"]}`)}, "[made bob a manager]"},
		{client.Payload{Type: 117, Data: []byte(`{"g":"g","o":"a","n":"0","ms":["bob"]}`)}, "[removed bob as a manager]"},
		{client.Payload{Type: 119, Data: []byte(`{"g":"g","o":"a","n":"1","ms":["bob"]}`)}, "[let bob speak while the group is muted]"},
		{client.Payload{Type: 113, Data: []byte(`{"g":"g","o":"a","n":"1"}`)}, "[muted the group]"},
		{client.Payload{Type: 113, Data: []byte(`{"g":"g","o":"a","n":"0"}`)}, "[unmuted the group]"},
		{client.Payload{Type: 118, Data: []byte(`{"g":"g","o":"a","n":"7","ms":["bob"]}`)}, `[set muted bob "7"]`},
	} {
		if got := entryText(tc.p); got != tc.want {
			t.Errorf("entryText(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
