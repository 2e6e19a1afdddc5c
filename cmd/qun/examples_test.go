package main

// The quickstart's paths, run as docs/quickstart.md tells a person to: a
// real qun, the client commands, and the example programs under examples/
// built and run as separate processes with the environment the doc gives
// them.

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/wildfire"
)

// exampleWait bounds every wait for an example program: generous, it only
// turns a hang into a failure.
const exampleWait = time.Minute

// examplesDir is the examples' directory, seen from this package's.
const examplesDir = "../../examples"

// buildExample builds the Go example named name into dir.
func buildExample(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./"+filepath.Join(examplesDir, name)).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// exampleProcess is a running example program and the lines it printed
// (stdout and stderr together).
type exampleProcess struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited and its output is read
	err  error         // cmd.Wait's, once done is closed

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every new line
}

// startExample starts bin with args and the variables env added to this
// process's environment. It is stopped (SIGTERM) when t ends, if it still runs.
func startExample(t *testing.T, bin string, env []string, args ...string) *exampleProcess {
	t.Helper()
	p := &exampleProcess{t: t, name: filepath.Base(bin), done: make(chan struct{}), changed: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	w.Close()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		r.Close()
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s printed:\n%s", p.name, p.output())
		}
	})
	return p
}

// output is everything the process printed so far.
func (p *exampleProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLine waits until the process prints a line matching re and returns it.
func (p *exampleProcess) waitLine(re *regexp.Regexp) string {
	p.t.Helper()
	deadline := time.After(exampleWait)
	exited := false
	for seen := 0; ; {
		p.mu.Lock()
		lines, changed := p.lines, p.changed
		p.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if re.MatchString(lines[seen]) {
				return lines[seen]
			}
		}
		if exited {
			p.t.Fatalf("%s exited (%v) without printing a line matching %s", p.name, p.err, re)
		}
		select {
		case <-changed:
		case <-p.done: // every line is in: one last look
			exited = true
		case <-deadline:
			p.t.Fatalf("%s printed no line matching %s within %v", p.name, re, exampleWait)
		}
	}
}

// stop sends SIGTERM, as a service manager (or Ctrl-C) would, and waits for
// the exit; calling it again is fine.
func (p *exampleProcess) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(exampleWait):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("did not stop on SIGTERM; killed")
	}
	return p.err
}

// wait waits for the process to exit by itself.
func (p *exampleProcess) wait() error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(exampleWait):
		p.t.Fatalf("%s did not exit within %v", p.name, exampleWait)
		return nil
	}
}

// quickstartEnv starts a qun and returns the command line's environment for
// it, as the quickstart's first steps leave it: user alice exists.
func quickstartEnv(t *testing.T) (*apptest.Main, *cliEnv) {
	t.Helper()
	data := t.TempDir()
	tm := apptest.Start(t, apptest.Config(t, data))
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_ADDR": strings.TrimPrefix(tm.Admin, "http://"), "QUN_DATA": data}}
	e.ok("user", "create", "--id", "alice", "--name", "alice", "--display-name", "Alice")
	return tm, e
}

// timelineTexts prints the group's first n timeline entries with qun
// timeline --follow, which waits until they exist, and returns them as
// "sender: text" lines.
func timelineTexts(t *testing.T, e *cliEnv, group string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exampleWait)
	defer cancel()
	r := e.runContext(ctx, "timeline", group, "--follow", "--max", strconv.Itoa(n), "--interval", "20ms")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("qun timeline %s --follow --max %d: exit %d, stderr %q, stdout %q", group, n, r.code, r.stderr, r.stdout)
	}
	return strings.Split(strings.TrimSuffix(timeOfDay.ReplaceAllString(r.stdout, ""), "\n"), "\n")
}

// TestQuickstartBotgo runs examples/botgo-bot, the botgo bot of the
// quickstart, against a real qun: it must connect with the appId and
// appSecret that qun robot create printed and answer an @-message that qun
// send posts, with a passive reply qun timeline shows.
func TestQuickstartBotgo(t *testing.T) {
	tm, e := quickstartEnv(t)
	bin := buildExample(t, t.TempDir(), "botgo-bot")

	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "echo", "--name", "echo", "--display-name", "Echo", "--owner", "alice")
	e.ok("group", "create", "--id", "team", "--name", "team", "--owner", "alice", "echo")

	bot := startExample(t, bin, []string{"QUN_URL=" + tm.Public, "BOT_APP_ID=" + creds.AppID, "BOT_APP_SECRET=" + creds.AppSecret})
	bot.waitLine(regexp.MustCompile(`ready as Echo \(app ` + creds.AppID + `\)`))

	e.ok("send", "--from", "alice", "--group", "team", "--mention", "echo", "@Echo ping")
	e.ok("send", "--from", "alice", "--group", "team", "--mention", "echo", "@Echo", "how", "are", "you?")
	got := timelineTexts(t, e, "team", 5)
	// Each reply comes after its message; the two exchanges may interleave.
	want := map[string]string{"alice: @Echo ping": "echo: pong", "alice: @Echo how are you?": "echo: you said: how are you?"}
	if got[0] != `-: [created the group "team"]` {
		t.Fatalf("timeline %q", got)
	}
	pos := map[string]int{}
	for i, line := range got {
		pos[line] = i
	}
	for msg, answer := range want {
		m, ok1 := pos[msg]
		a, ok2 := pos[answer]
		if !ok1 || !ok2 || a < m {
			t.Fatalf("timeline %q: want %q answered by %q", got, msg, answer)
		}
	}
	bot.waitLine(regexp.MustCompile(`said "how are you\?"$`))

	if err := bot.stop(); err != nil {
		t.Fatalf("botgo-bot on SIGTERM: %v", err)
	}
	bot.waitLine(regexp.MustCompile(`botgo-bot: .*stopping$`))
	// Without -v it never prints what botgo logs at debug and info level:
	// the appSecret and the access tokens.
	if out := bot.output(); strings.Contains(out, creds.AppSecret) || strings.Contains(out, "QQBot ") {
		t.Errorf("botgo-bot printed a secret:\n%s", out)
	}
	// A run without trouble, stopped as a person stops it, warns of nothing.
	if out := bot.output(); strings.Contains(out, "botgo warning") || strings.Contains(out, "botgo error") {
		t.Errorf("botgo-bot warned:\n%s", out)
	}
}

// TestQuickstartBotgoWithoutCredentials: the example says what it needs.
func TestQuickstartBotgoWithoutCredentials(t *testing.T) {
	bin := buildExample(t, t.TempDir(), "botgo-bot")
	p := startExample(t, bin, []string{"BOT_APP_ID=", "BOT_APP_SECRET="})
	var exit *exec.ExitError
	if err := p.wait(); !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(p.output(), "qun robot create prints them") {
		t.Fatalf("botgo-bot without credentials: %v\n%s", err, p.output())
	}
}

// TestQuickstartRobot runs examples/robot, the quickstart's Wildfire robot:
// it creates its group, adds members and greets them through the Robot
// API; examples/robot-callback, the same robot hearing its callback,
// answers a mention in that group, and so does the botgo bot logged in as
// the same robot; run again, the robot reuses the group.
func TestQuickstartRobot(t *testing.T) {
	tm, e := quickstartEnv(t)
	bin := buildExample(t, t.TempDir(), "robot")
	e.ok("user", "create", "--id", "bob", "--name", "bob", "--display-name", "Bob")
	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "greeter", "--name", "greeter", "--display-name", "Greeter", "--owner", "alice")
	env := []string{"QUN_URL=" + tm.Public, "QUN_ROBOT_ID=greeter", "QUN_ROBOT_SECRET=" + creds.Secret}

	p := startExample(t, bin, env, "alice", "bob")
	if err := p.wait(); err != nil {
		t.Fatalf("robot: %v\n%s", err, p.output())
	}
	uid := regexp.MustCompile(`sent message \d+:`)
	want := `signed in as greeter (Greeter)
created group robot-team
added alice
added bob
sent message N: Hello alice, bob! I am Greeter, and I run this group.
members of robot-team: greeter (owner), alice, bob`
	if got := uid.ReplaceAllString(p.output(), "sent message N:"); got != want {
		t.Fatalf("robot printed:\n%s\nwant:\n%s", got, want)
	}

	e.ok("send", "--from", "alice", "--group", "robot-team", "Hi Greeter!")
	wantTimeline := []string{
		`greeter: [created the group "robot-team"]`,
		"greeter: [added alice, bob]",
		"greeter: Hello alice, bob! I am Greeter, and I run this group.",
		"alice: Hi Greeter!",
	}
	if got := timelineTexts(t, e, "robot-team", 4); strings.Join(got, "\n") != strings.Join(wantTimeline, "\n") {
		t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantTimeline, "\n"))
	}

	// The robot hears @-messages through its callback: examples/robot-callback.
	cb := startExample(t, buildExample(t, t.TempDir(), "robot-callback"), append(env, "ROBOT_LISTEN=127.0.0.1:0"))
	cb.waitLine(regexp.MustCompile(`signed in as greeter \(Greeter\); callback set to http://`))
	e.ok("send", "--from", "alice", "--group", "robot-team", "--mention", "greeter", "@Greeter ping")
	if got := timelineTexts(t, e, "robot-team", 6); got[4] != "alice: @Greeter ping" || got[5] != "greeter: pong" {
		t.Fatalf("timeline after the mention: %q", got)
	}
	cb.waitLine(regexp.MustCompile(`group robot-team: answered \d+$`))
	if err := cb.stop(); err != nil {
		t.Fatalf("robot-callback on SIGTERM: %v", err)
	}

	// The same robot answers @-messages through the gateway too: the botgo
	// bot, logged in with the robot's appId and appSecret.
	bot := startExample(t, buildExample(t, t.TempDir(), "botgo-bot"),
		[]string{"QUN_URL=" + tm.Public, "BOT_APP_ID=" + creds.AppID, "BOT_APP_SECRET=" + creds.AppSecret})
	bot.waitLine(regexp.MustCompile(`ready as Greeter `))
	e.ok("send", "--from", "alice", "--group", "robot-team", "--mention", "greeter", "@Greeter ping")
	if got := timelineTexts(t, e, "robot-team", 8); got[6] != "alice: @Greeter ping" || got[7] != "greeter: pong" {
		t.Fatalf("timeline after the second mention: %q", got)
	}
	if err := bot.stop(); err != nil {
		t.Fatalf("botgo-bot on SIGTERM: %v", err)
	}

	// Again, with one more member: the group is reused, only carol is added.
	p = startExample(t, bin, env, "alice", "carol")
	if err := p.wait(); err != nil {
		t.Fatalf("robot, second run: %v\n%s", err, p.output())
	}
	if out := p.output(); !strings.Contains(out, "group robot-team exists; using it\nadded carol\n") || strings.Contains(out, "added alice") ||
		!strings.HasSuffix(out, "members of robot-team: greeter (owner), alice, bob, carol") {
		t.Fatalf("robot, second run printed:\n%s", out)
	}

	// Someone else's group: refused before anything changes.
	e.ok("group", "create", "--id", "team", "--name", "team", "--owner", "alice")
	p = startExample(t, bin, env, "-group", "team", "bob")
	var exit *exec.ExitError
	if err := p.wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(p.output(), "group team is someone else's") {
		t.Fatalf("robot on someone else's group: %v\n%s", err, p.output())
	}
	// A wrong secret: the Wildfire code, exit 1.
	p = startExample(t, bin, []string{"QUN_URL=" + tm.Public, "QUN_ROBOT_ID=greeter", "QUN_ROBOT_SECRET=wrong"})
	if err := p.wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(p.output(), "profile: wildfire: 244 auth failure") {
		t.Fatalf("robot with a wrong secret: %v\n%s", err, p.output())
	}
}

// TestQuickstartWebhook runs examples/webhook-bot, the quickstart's bot in
// webhook mode (botgo's own webhook.HTTPHandler), as a process listening on
// a loopback port: qun robot webhook registers it (op 13 validation must
// pass), qun send mentions it, its passive reply shows in qun timeline,
// qun robot deliveries shows what was delivered and qun robot redeliver
// sends the mention again, which the bot knows it answered.
func TestQuickstartWebhook(t *testing.T) {
	tm, e := quickstartEnv(t)
	bin := buildExample(t, t.TempDir(), "webhook-bot")

	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "hook", "--name", "hook", "--display-name", "Hook", "--owner", "alice")
	bot := startExample(t, bin, []string{"QUN_URL=" + tm.Public, "BOT_APP_ID=" + creds.AppID, "BOT_APP_SECRET=" + creds.AppSecret, "BOT_LISTEN=127.0.0.1:0"})
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/qqbot) `)
	url := listening.FindStringSubmatch(bot.waitLine(listening))[1]

	// A URL that does not answer op 13 is refused, with qun's reason.
	e.fails(1, "qun robot webhook: code 251: Invalid parameter: webhook validation (op 13) failed: validation answered HTTP 404\n",
		"robot", "webhook", "hook", tm.Public+"/qqbot")
	var hook client.Webhook
	e.okJSON(&hook, "robot", "webhook", "hook", url)
	if hook != (client.Webhook{URL: url, Intents: 1 << 25, Validated: true}) {
		t.Fatalf("robot webhook printed %+v", hook)
	}
	var robot client.Robot
	e.okJSON(&robot, "robot", "get", "hook")
	if robot.Webhook != hook {
		t.Fatalf("robot get shows the webhook %+v, want %+v", robot.Webhook, hook)
	}

	e.ok("group", "create", "--id", "hookteam", "--name", "hookteam", "--owner", "alice", "hook")
	bot.waitLine(regexp.MustCompile(`added to group [0-9A-F]{32}$`))
	e.ok("send", "--from", "alice", "--group", "hookteam", "--mention", "hook", "@Hook ping")
	want := []string{`-: [created the group "hookteam"]`, "alice: @Hook ping", "hook: pong"}
	if got := timelineTexts(t, e, "hookteam", 3); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Both events delivered: GROUP_ADD_ROBOT (seq 1) and the mention (seq 2).
	var d client.Deliveries
	mnWaitFor(t, "both events delivered", func() bool {
		e.okJSON(&d, "robot", "deliveries", "hook")
		return d.Webhook.DeliveredSeq == 2
	})
	if d.Webhook.URL != url || d.Webhook.Pending != 0 || d.Webhook.LastError != "" || len(d.Attempts) != 2 ||
		d.Attempts[0].T != "GROUP_AT_MESSAGE_CREATE" || d.Attempts[0].Status != 200 || d.Attempts[1].T != "GROUP_ADD_ROBOT" {
		t.Fatalf("robot deliveries printed %+v", d)
	}
	e.okJSON(&d, "robot", "deliveries", "hook", "--limit", "1")
	if len(d.Attempts) != 1 {
		t.Fatalf("robot deliveries --limit 1 printed %d attempts", len(d.Attempts))
	}

	// Sent again, the mention is answered once: the bot sees its reply was posted.
	if out := e.ok("robot", "redeliver", "hook", "--from", "2", "--stream", "webhook"); out != "" {
		t.Fatalf("robot redeliver printed %q", out)
	}
	bot.waitLine(regexp.MustCompile(`already answered ROBOT1\.0_`))
	mnWaitFor(t, "the mention delivered again", func() bool {
		e.okJSON(&d, "robot", "deliveries", "hook", "--limit", "3")
		return d.Webhook.DeliveredSeq == 2 && len(d.Attempts) == 3
	})
	if d.Attempts[0].T != "GROUP_AT_MESSAGE_CREATE" || d.Attempts[0].Status != 200 || d.Attempts[0].Error != "" || d.Attempts[0].ID != d.Attempts[1].ID {
		t.Fatalf("after redeliver: %+v", d.Attempts)
	}
	if got := e.ok("timeline", "hookteam"); strings.Count(got, "\n") != 3 {
		t.Fatalf("timeline after the redelivery:\n%s", got)
	}

	// Off: no more deliveries; a stream that is off cannot be sent again.
	e.okJSON(&hook, "robot", "webhook", "--off", "hook")
	if hook != (client.Webhook{}) {
		t.Fatalf("robot webhook --off printed %+v", hook)
	}
	if r := e.run("robot", "redeliver", "hook", "--from", "1", "--stream", "webhook"); r.code != 1 || !strings.HasPrefix(r.stderr, "qun robot redeliver: code 253: ") {
		t.Fatalf("redeliver of a webhook that is off: %+v", r)
	}

	if err := bot.stop(); err != nil {
		t.Fatalf("webhook-bot on SIGTERM: %v", err)
	}
	bot.waitLine(regexp.MustCompile(`webhook-bot: .*stopping$`))
	if out := bot.output(); strings.Contains(out, creds.AppSecret) || strings.Contains(out, "botgo warning") || strings.Contains(out, "botgo error") {
		t.Errorf("webhook-bot printed a secret or a warning:\n%s", out)
	}
}

// TestQuickstartRobotCallback runs examples/robot-callback, the
// quickstart's Wildfire robot that hears its groups through its callback:
// it sets its callback (/robot/set_callback) to its own loopback listener,
// checks the Standard Webhooks signature of each POST, and answers a
// mention through the Robot API, once, also when qun sends it again.
func TestQuickstartRobotCallback(t *testing.T) {
	tm, e := quickstartEnv(t)
	bin := buildExample(t, t.TempDir(), "robot-callback")
	e.ok("user", "create", "--id", "bob", "--name", "bob", "--display-name", "Bob")
	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "greeter", "--name", "greeter", "--display-name", "Greeter", "--owner", "alice")

	p := startExample(t, bin, []string{"QUN_URL=" + tm.Public, "QUN_ROBOT_ID=greeter", "QUN_ROBOT_SECRET=" + creds.Secret, "ROBOT_LISTEN=127.0.0.1:0"})
	set := regexp.MustCompile(`signed in as greeter \(Greeter\); callback set to (http://127\.0\.0\.1:\d+/robot/recvmsg)$`)
	url := set.FindStringSubmatch(p.waitLine(set))[1]
	var robot client.Robot
	e.okJSON(&robot, "robot", "get", "greeter")
	if robot.Callback != url {
		t.Fatalf("robot get: callback %q, want %q", robot.Callback, url)
	}

	e.ok("group", "create", "--id", "team", "--name", "team", "--owner", "alice", "greeter", "bob")
	e.ok("send", "--from", "bob", "--group", "team", "hello all") // heard, not answered
	var sent client.Sent
	e.okJSON(&sent, "send", "--from", "alice", "--group", "team", "--mention", "greeter", "@Greeter ping")
	want := []string{`-: [created the group "team"]`, "bob: hello all", "alice: @Greeter ping", "greeter: pong"}
	if got := timelineTexts(t, e, "team", 4); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	p.waitLine(regexp.MustCompile(`group team: bob said "hello all"$`))
	p.waitLine(regexp.MustCompile(`group team: answered ` + strconv.FormatInt(sent.MessageUID, 10) + `$`))

	// A POST qun did not sign is refused.
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"messageId":1,"sender":"alice","conv":{"type":1,"target":"team","line":0},"payload":{"type":1,"searchableContent":"@Greeter ping","mentionedType":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned POST: HTTP %d, want 401", resp.StatusCode)
	}
	p.waitLine(regexp.MustCompile(`refused a callback: no webhook-id, webhook-timestamp or webhook-signature$`))
	forged, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"messageId":1}`))
	forged.Header = wildfire.SignWebhook([]byte("not the robot's secret"), "1", time.Now(), []byte(`{"messageId":1}`))
	if resp, err = http.DefaultClient.Do(forged); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a POST signed with another key: HTTP %d, want 401", resp.StatusCode)
	}
	p.waitLine(regexp.MustCompile(`refused a callback: no webhook-signature matches$`))

	// The mention sent again is answered once.
	var d client.Deliveries
	mnWaitFor(t, "the mention's callback recorded", func() bool {
		e.okJSON(&d, "robot", "deliveries", "greeter")
		return len(d.Attempts) > 0 && d.Attempts[0].ID == strconv.FormatInt(sent.MessageUID, 10)
	})
	if d.Callback.URL != url || d.Attempts[0].Stream != client.StreamCallback || d.Attempts[0].Status != 200 {
		t.Fatalf("robot deliveries: %+v", d)
	}
	e.ok("robot", "redeliver", "greeter", "--from", strconv.FormatInt(d.Attempts[0].Seq, 10), "--stream", "callback")
	p.waitLine(regexp.MustCompile(`group team: already answered ` + strconv.FormatInt(sent.MessageUID, 10) + `$`))
	if got := e.ok("timeline", "team"); strings.Count(got, "\n") != 4 {
		t.Fatalf("timeline after the redelivery:\n%s", got)
	}

	if err := p.stop(); err != nil {
		t.Fatalf("robot-callback on SIGTERM: %v", err)
	}
	if out := p.output(); strings.Contains(out, creds.Secret) {
		t.Errorf("robot-callback printed its secret:\n%s", out)
	}
}

// pythonVar names the Python the botpy tests use; python3 by default.
const pythonVar = "QUN_TEST_PYTHON"

func python(t *testing.T) string {
	t.Helper()
	py := os.Getenv(pythonVar)
	if py == "" {
		py = "python3"
	}
	path, err := exec.LookPath(py)
	if err != nil {
		t.Skipf("no %s (%v): skipping the botpy example's check; set %s to a Python 3 to run it", py, err, pythonVar)
	}
	return path
}

// TestQuickstartBotpyCompiles checks that examples/botpy-bot/bot.py is
// valid Python, where a Python is installed; TestQuickstartBotpy runs it
// where botpy is installed too.
func TestQuickstartBotpyCompiles(t *testing.T) {
	py := python(t)
	src := filepath.Join(examplesDir, "botpy-bot", "bot.py")
	// The compiled file goes to a temporary directory, not beside the source.
	cmd := exec.Command(py, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", src, filepath.Join(t.TempDir(), "bot.pyc"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", src, err, out)
	}
}

// TestQuickstartBotpyWithoutBotpy: where botpy is missing, bot.py says to
// install it (exit 1) instead of ending in a traceback.
func TestQuickstartBotpyWithoutBotpy(t *testing.T) {
	py := python(t)
	if exec.Command(py, "-c", "import aiohttp, botpy").Run() == nil {
		t.Skipf("%s imports botpy: nothing to check here", py)
	}
	cmd := exec.Command(py, filepath.Join(examplesDir, "botpy-bot", "bot.py"), "--app-id", "1", "--app-secret", "s")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Contains(string(out), "Traceback") ||
		!strings.Contains(string(out), "install botpy first: pip install qq-botpy") {
		t.Fatalf("bot.py without botpy: %v\n%s", err, out)
	}
}

// TestQuickstartBotpy runs examples/botpy-bot/bot.py with botpy, the
// official Python SDK, against a real qun, as TestQuickstartBotgo runs the
// botgo bot. It needs a Python that imports botpy (pip install qq-botpy, or
// botpy's source on PYTHONPATH with aiohttp, PyYAML and APScheduler
// installed); without one it skips, saying so.
func TestQuickstartBotpy(t *testing.T) {
	py := python(t)
	if out, err := exec.Command(py, "-c", "import botpy").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import botpy (%v: %s): skipping the botpy bot's run; pip install qq-botpy, or put botpy's source on PYTHONPATH, or set %s to a Python that has it",
			py, err, strings.TrimSpace(lastLine(string(out))), pythonVar)
	}
	tm, e := quickstartEnv(t)
	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "pybot", "--name", "pybot", "--display-name", "PyBot", "--owner", "alice")
	e.ok("group", "create", "--id", "team", "--name", "team", "--owner", "alice", "pybot")

	bot := startExample(t, py, []string{"QUN_URL=" + tm.Public, "BOT_APP_ID=" + creds.AppID, "BOT_APP_SECRET=" + creds.AppSecret, "PYTHONUNBUFFERED=1"},
		filepath.Join(examplesDir, "botpy-bot", "bot.py"))
	bot.waitLine(regexp.MustCompile(`^botpy-bot: ready as PyBot$`))

	e.ok("send", "--from", "alice", "--group", "team", "--mention", "pybot", "@PyBot ping")
	want := []string{`-: [created the group "team"]`, "alice: @PyBot ping", "pybot: pong"}
	if got := timelineTexts(t, e, "team", 3); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := bot.stop(); err != nil && !strings.Contains(err.Error(), "signal: terminated") {
		t.Fatalf("bot.py on SIGTERM: %v", err)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
