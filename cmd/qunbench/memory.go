package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/wildfire"
)

// benchMemoryGoal is the peak RSS qun may reach under the hostile bodies (issue 8).
const benchMemoryGoal = 100 << 20

// hostileBody is one shape of request a stranger may send to make qun
// allocate far more than the body's size.
type hostileBody struct {
	name string
	door string // "robot", "admin" or "qq"
	path string
	body []byte
}

// benchMemory runs qun serve as a child process and sends it concurrent
// hostile bodies of just under the body limit (1 MiB on the Robot and Admin
// APIs, 64 KiB on the Bot Open Platform), one shape after another, and
// prints the child's peak RSS (VmHWM) per shape against its idle RSS
// measured in the same run. The child is a separate process so that the
// load generator's own memory is not counted.
func benchMemory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qunbench memory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 3*time.Second, "how long each shape is sent")
	conc := fs.Int("concurrency", 8, "concurrent callers")
	qun := fs.String("qun", "", "a qun binary: measure its qun serve (default: qunbench serve, the same wiring built into this binary)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	exe := *qun
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			fmt.Fprintln(stderr, "qunbench memory:", err)
			return 1
		}
	}
	if err := runBenchMemory(ctx, stdout, exe, *duration, *conc); err != nil {
		fmt.Fprintln(stderr, "qunbench memory:", err)
		return 1
	}
	return 0
}

func runBenchMemory(ctx context.Context, out io.Writer, exe string, d time.Duration, conc int) error {
	fmt.Fprintf(out, "qunbench memory: %d concurrent callers, %s per shape, a new qun serve per shape, GOMAXPROCS %d, %s/%s\n", conc, d, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "%-34s %5s %6s %6s %-20s %9s %11s %9s\n", "shape", "door", "body", "req/s", "answers", "idle RSS", "peak RSS", "over idle")
	var worst, idleMax int64
	for _, h := range hostileBodies(wildfire.DefaultMaxBody, qqbot.DefaultMaxBody) {
		idle, peak, n, answers, err := benchShape(ctx, exe, h, d, conc)
		if err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
		worst, idleMax = max(worst, peak), max(idleMax, idle)
		fmt.Fprintf(out, "%-34s %5s %5dK %6.0f %-20s %6.1f MB %8.1f MB %6.1f MB\n", h.name, h.door, len(h.body)>>10, float64(n)/d.Seconds(), answers, mb(idle), mb(peak), mb(peak-idle))
	}
	verdict := "met"
	if worst > benchMemoryGoal {
		verdict = "NOT met"
	}
	fmt.Fprintf(out, "worst peak RSS %.1f MB (idle at most %.1f MB)   (goal: <= %d MB: %s)\n", mb(worst), mb(idleMax), benchMemoryGoal>>20, verdict)
	return nil
}

// benchShape starts a new qun serve, measures its idle RSS after a few
// ordinary calls, sends h from conc callers for d and returns the idle RSS,
// the peak RSS under the load, the number of answers and their summary. A
// new process per shape keeps one shape's garbage out of the next one's peak.
func benchShape(ctx context.Context, exe string, h hostileBody, d time.Duration, conc int) (idle, peak int64, n int, answers string, err error) {
	data, err := os.MkdirTemp("", "qun-bench-memory-")
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer os.RemoveAll(data)
	secret := group.RandomString(32)
	child, err := startChild(ctx, exe, data, secret)
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer child.stop()

	t := newTarget(child.public, child.admin, secret, conc)
	hc, admin := t.http, t.adminAPI
	defer hc.CloseIdleConnections()
	bot, err := t.createBot(ctx, benchMemoryBot, "")
	if err != nil {
		return 0, 0, 0, "", err
	}
	robot := t.robot(bot)
	body := map[string]any{"group": map[string]any{"group_info": map[string]any{"target_id": benchMemoryGroup, "name": "bench", "type": 2}}}
	if err := ok(robot.Call(ctx, "/robot/group/create", body, nil)); err != nil {
		return 0, 0, 0, "", err
	}
	qq, err := t.qq(ctx, bot)
	if err != nil {
		return 0, 0, 0, "", err
	}
	// Some ordinary calls, so that the idle baseline includes warm pools and caches.
	for range 50 {
		add := map[string]any{"group_id": benchMemoryGroup, "members": []any{map[string]any{"member_id": "u" + group.RandomString(8)}}}
		if err := ok(robot.Call(ctx, "/robot/group/member/add", add, nil)); err != nil {
			return 0, 0, 0, "", err
		}
	}
	time.Sleep(time.Second) // let the child settle
	m, err := child.memory()
	if err != nil {
		return 0, 0, 0, "", err
	}
	if err := child.resetPeak(); err != nil {
		return 0, 0, 0, "", err
	}
	send := func(ctx context.Context) (string, error) {
		switch h.door {
		case "qq":
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, qq.base+h.path, bytes.NewReader(h.body))
			if err != nil {
				return "", err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "QQBot "+qq.tok)
			return answerOf(hc.Do(req))
		case "admin":
			return signedAnswer(ctx, admin, h.path, h.body)
		}
		return signedAnswer(ctx, robot, h.path, h.body)
	}
	n, answers, err = hammer(ctx, d, conc, send)
	if err != nil {
		return 0, 0, 0, "", err
	}
	after, err := child.memory()
	if err != nil {
		return 0, 0, 0, "", err
	}
	return m.rss, after.hwm, n, answers, nil
}

// The robot and the group every shape is sent against.
const (
	benchMemoryBot   = "benchbot"
	benchMemoryGroup = "benchgroup"
)

// hostileBodies returns the shapes sent: arrays of hundreds of thousands of
// tiny elements in every field that takes a list, a body nested as deep as it
// is long, and objects of one key repeated tens of thousands of times. Each
// is padded to just under its door's body limit.
func hostileBodies(wfMax, qqMax int64) []hostileBody {
	gid := strconv.Quote(benchMemoryGroup)
	fill := func(prefix, elem, sep, suffix string, max int64) []byte {
		var b bytes.Buffer
		b.WriteString(prefix)
		for i := 0; int64(b.Len()+len(sep)+len(elem)+len(suffix)) < max; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(elem)
		}
		b.WriteString(suffix)
		return b.Bytes()
	}
	deep := func(prefix string, max int64) []byte {
		n := (max - int64(len(prefix)) - 2) / 2
		return []byte(prefix + strings.Repeat("[", int(n)) + strings.Repeat("]", int(n)) + "}")
	}
	const qqGroup = "/v2/groups/00000000000000000000000000000000/messages"
	return []hostileBody{
		{"member/add: members of {}", "robot", "/robot/group/member/add", fill(`{"group_id":`+gid+`,"members":[`, "{}", ",", "]}", wfMax)},
		{"group/create: members of {}", "robot", "/robot/group/create", fill(`{"group":{"group_info":{"name":"x"},"members":[`, "{}", ",", "]}}", wfMax)},
		{"member/del: member ids", "robot", "/robot/group/member/del", fill(`{"group_id":`+gid+`,"members":[`, `""`, ",", "]}", wfMax)},
		{"manager/mute: member ids", "robot", "/robot/group/manager/mute", fill(`{"group_id":`+gid+`,"is_manager":true,"members":[`, "0", ",", "]}", wfMax)},
		{"set_alias: to_lines", "robot", "/robot/group/member/set_alias", fill(`{"group_id":`+gid+`,"alias":"a","to_lines":[`, "0", ",", "]}", wfMax)},
		{"message/send: mentionedTarget", "robot", "/robot/message/send", fill(`{"conv":{"type":1,"target":`+gid+`},"payload":{"type":1,"searchableContent":"x","mentionedType":1,"mentionedTarget":[`, `""`, ",", "]}}", wfMax)},
		{"modify: notify mentionedTarget", "robot", "/robot/group/modify", fill(`{"group_id":`+gid+`,"type":0,"value":"x","notify_message":{"type":1,"mentionedTarget":[`, "0", ",", "]}}", wfMax)},
		{"message/send: toUsers", "robot", "/robot/message/send", fill(`{"conv":{"type":1,"target":`+gid+`},"payload":{"type":1,"searchableContent":"x"},"toUsers":[`, "0", ",", "]}", wfMax)},
		{"get_info: nested arrays", "robot", "/robot/group/get_info", deep(`{"groupId":`+gid+`,"x":`, wfMax)},
		{"get_info: unknown key ×175k", "robot", "/robot/group/get_info", fill(`{"groupId":`+gid+`,`, `"k":0`, ",", "}", wfMax)},
		{"get_info: known key ×75k", "robot", "/robot/group/get_info", fill(`{`, `"groupId":"g"`, ",", "}", wfMax)},
		{"admin member/add: members of {}", "admin", "/admin/group/member/add", fill(`{"group_id":`+gid+`,"members":[`, "{}", ",", "]}", wfMax)},
		{"admin ice_breaker: mentionedTarget", "admin", "/admin/robot/ice_breaker", fill(`{"robotId":"`+benchMemoryBot+`","enabled":true,"payload":{"type":1,"mentionedTarget":[`, `""`, ",", "]}}", wfMax)},
		{"messages: keyboard of {}", "qq", qqGroup, fill(`{"content":"x","keyboard":{"content":{"rows":[`, "{}", ",", "]}}}", qqMax)},
		{"messages: nested arrays", "qq", qqGroup, deep(`{"content":"x","x":`, qqMax)},
	}
}

// hammer runs send from conc workers for d and returns the number of answers
// and a summary of them ("251×1234"). A transport error ends it.
func hammer(ctx context.Context, d time.Duration, conc int, send func(context.Context) (string, error)) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	counts := map[string]int{}
	var firstErr error
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				a, err := send(ctx)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				counts[a]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, "", firstErr
	}
	keys := make([]string, 0, len(counts))
	n := 0
	for k, c := range counts {
		keys = append(keys, k)
		n += c
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
	}
	return n, strings.Join(parts, " "), nil
}

// wildfireCode matches the code at the start of a Wildfire answer.
var wildfireCode = regexp.MustCompile(`^\{"code":(\d+)`)

// signedAnswer posts body signed by c and returns "HTTP status/code".
func signedAnswer(ctx context.Context, c *client.Client, path string, body []byte) (string, error) {
	req, err := c.NewRequest(ctx, path, body)
	if err != nil {
		return "", err
	}
	return answerOf(c.HTTP.Do(req))
}

// answerOf summarises an answer as its HTTP status, plus its Wildfire code.
func answerOf(resp *http.Response, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if m := wildfireCode.FindSubmatch(b); m != nil {
		return string(m[1]), nil
	}
	return "HTTP " + strconv.Itoa(resp.StatusCode), nil
}

// childQun is qun serve running as a child process.
type childQun struct {
	cmd           *exec.Cmd
	public, admin string
	done          chan error
}

// listening matches qun's start-up log line.
var listening = regexp.MustCompile(`msg="qun listening" public=(\S+) admin=(\S+)`)

// startChild runs exe serve (qun serve, or qunbench serve) on loopback ports
// 0 with SQLite in data and no rate limits, and waits until it listens.
func startChild(ctx context.Context, exe, data, secret string) (*childQun, error) {
	cmd := exec.CommandContext(ctx, exe, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data,
		"--admin-secret", secret, "--robot-rate", "0", "--bot-rest-rate", "-1", "--log-level", "info")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no QUN_* settings of the caller
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childQun{cmd: cmd, done: make(chan error, 1)}
	addrs := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1:]
			}
		}
		io.Copy(io.Discard, stderr)
		c.done <- cmd.Wait()
	}()
	select {
	case a := <-addrs:
		c.public, c.admin = a[0], a[1]
		return c, nil
	case err := <-c.done:
		return nil, fmt.Errorf("qun serve exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, errors.New("qun serve did not listen within 30 s")
	}
}

// stop shuts the child down gracefully.
func (c *childQun) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// rss is a process's resident memory now and at its peak, in bytes.
type rss struct{ rss, hwm int64 }

// memory reads the child's VmRSS and VmHWM.
func (c *childQun) memory() (rss, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return rss{}, fmt.Errorf("read the child's memory (Linux only): %w", err)
	}
	var m rss
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = n << 10
		case "VmHWM:":
			m.hwm = n << 10
		}
	}
	return m, nil
}

// resetPeak sets the child's VmHWM back to its current RSS, so that each
// shape's peak is its own.
func (c *childQun) resetPeak() error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the child's peak RSS: %w", err)
	}
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
