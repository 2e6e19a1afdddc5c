package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencent-connect/botgo/token"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
)

// startQun starts `qun serve` on SQLite in data with extra flags, as a
// separate process, and waits until it listens; it is stopped (SIGTERM)
// when the test ends unless it was stopped or killed before.
func startQun(t *testing.T, bin, name, data string, extra ...string) *qunNode {
	t.Helper()
	n := &qunNode{name: name, data: data, done: make(chan struct{})}
	args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--robot-rate", "0"}, extra...)
	n.cmd = exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QUN_") {
			n.cmd.Env = append(n.cmd.Env, kv)
		}
	}
	n.cmd.Stdout, n.cmd.Stderr = &n.stdout, &n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		n.err = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		n.stop(t)
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", name, mnTail(n.stderr.String(), 40))
		}
	})
	deadline := time.Now().Add(mnWait)
	for {
		if m := listeningLine.FindStringSubmatch(n.stderr.String()); m != nil {
			n.Public, n.Admin = "http://"+m[1], "http://"+m[2]
			return n
		}
		if n.exited() || time.Now().After(deadline) {
			n.killed = true
			n.cmd.Process.Kill()
			t.Fatalf("%s did not start: %v\n%s", name, n.err, n.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nodeNameOf reads the node name a qun process keeps in its data directory.
func nodeNameOf(t *testing.T, n *qunNode) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.data, app.NodeFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// backlog collects the frames of a webhook stream that restarts: every seq
// from the first on must come, in order; after a crash the stream may
// repeat some (from the progress it recorded), never skip one.
type backlog struct {
	t      *testing.T
	frames <-chan mnFrame
	last   uint32 // the highest seq seen
	prev   uint32 // the seq of the last frame
	seen   map[uint32]int
}

func newBacklog(t *testing.T, frames <-chan mnFrame) *backlog {
	return &backlog{t: t, frames: frames, seen: make(map[uint32]int)}
}

// until takes frames until seq upto has come (or n more frames, if upto is 0).
func (b *backlog) until(what string, upto uint32, n int) {
	b.t.Helper()
	deadline := time.After(2 * mnWait)
	for got := 0; (upto == 0 && got < n) || (upto != 0 && b.last < upto); got++ {
		select {
		case f := <-b.frames:
			if b.prev != 0 && f.Seq > b.prev+1 {
				b.t.Fatalf("%s: frame s=%d after s=%d: events %d..%d skipped", what, f.Seq, b.prev, b.prev+1, f.Seq-1)
			}
			b.prev, b.last = f.Seq, max(b.last, f.Seq)
			b.seen[f.Seq]++
		case <-deadline:
			b.t.Fatalf("%s: frames up to s=%d within %v, want s=%d", what, b.last, 2*mnWait, upto)
		}
	}
}

// all checks that every frame from the first to the last came.
func (b *backlog) all() {
	b.t.Helper()
	first := b.last
	for s := range b.seen {
		first = min(first, s)
	}
	for s := first; s <= b.last; s++ {
		if b.seen[s] == 0 {
			b.t.Fatalf("the frame with s=%d never arrived", s)
		}
	}
}

// repeated returns how many frames came more than once.
func (b *backlog) repeated() int {
	n := 0
	for _, c := range b.seen {
		n += c - 1
	}
	return n
}

// TestWebhookRestart stops qun in the middle of a webhook backlog, once
// with SIGTERM and once with SIGKILL, and starts it again on the same data:
// every event arrives, in order; after SIGTERM none twice.
func TestWebhookRestart(t *testing.T) {
	frames, _ := mnBotgoAttach(t)
	dir := t.TempDir()
	bin := mnBuild(t, dir)
	data := filepath.Join(dir, "data")
	flags := []string{"--delivery-retry-min", "1ms", "--delivery-retry-max", "50ms"}
	n := startQun(t, bin, "qun", data, flags...)
	secret, err := os.ReadFile(filepath.Join(data, app.AdminSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := client.NewAdmin(n.Admin, strings.TrimSpace(string(secret)))
	var bot struct {
		AppID     string `json:"appId"`
		AppSecret string `json:"appSecret"`
	}
	mnCall(t, "create the bot", admin, "/admin/robot/create", map[string]any{"userId": "mnbot", "name": "mnbot", "displayName": "MNBot"}, &bot)
	mnCall(t, "create alice", admin, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice"}, nil)
	rcv := newHookReceiver(t, &token.QQBotCredentials{AppID: bot.AppID, AppSecret: bot.AppSecret})
	mnCall(t, "set the webhook", admin, "/admin/robot/webhook", map[string]any{"robotId": "mnbot", "url": rcv.URL()}, nil)
	mnCall(t, "create g1", admin, "/admin/group/create", map[string]any{"operator": "alice",
		"group": map[string]any{"group_info": map[string]any{"target_id": "g1", "name": "g1", "type": 2, "owner": "alice"},
			"members": []any{map[string]any{"member_id": "mnbot"}}}}, nil)
	b := newBacklog(t, frames)
	b.until("GROUP_ADD_ROBOT", 1, 0)

	// A slow receiver and a quick writer: a backlog builds up.
	rcv.mu.Lock()
	rcv.delay = 5 * time.Millisecond
	rcv.mu.Unlock()
	allow := true
	write := func(what string, count int) {
		for range count {
			allow = !allow
			mnProactive(t, what, admin, "alice", "g1", allow)
		}
	}
	const batch = 150
	for i, stop := range []string{"SIGTERM", "SIGKILL"} {
		first := b.last + 1
		write("backlog before "+stop, batch)
		b.until("part of the backlog before "+stop, 0, 20)
		if stop == "SIGTERM" {
			n.stop(t)
		} else {
			n.kill(t)
		}
		if b.last >= first+batch-1 {
			t.Logf("%s: the receiver had the whole backlog before the stop", stop)
		}
		n = startQun(t, bin, fmt.Sprintf("qun after %s", stop), data, flags...)
		admin = client.NewAdmin(n.Admin, strings.TrimSpace(string(secret)))
		write("after "+stop, 10)
		b.until("the backlog after "+stop, first+batch+10-1, 0)
		if i == 0 && b.repeated() != 0 {
			t.Fatalf("after SIGTERM %d frames came twice", b.repeated())
		}
		t.Logf("%s: %d frames repeated so far", stop, b.repeated())
	}
	b.all()
}

// TestWebhookMultiNode runs two nodes on PostgreSQL: one delivers the
// bot's webhook (it holds the lease); it is killed in the middle of a
// backlog; the other takes the stream over and nothing is lost.
func TestWebhookMultiNode(t *testing.T) {
	c := newMNCluster(t)
	c.extra = []string{"--delivery-lease", "2s", "--delivery-retry-min", "1ms", "--delivery-retry-max", "50ms"}
	frames, _ := mnBotgoAttach(t)
	a := c.start("A", "a")
	secret := mnWaitSecret(t, a)
	bn := c.start("B", "b")
	nodes := map[string]*qunNode{nodeNameOf(t, a): a, nodeNameOf(t, bn): bn}
	adminA := client.NewAdmin(a.Admin, secret)
	var bot struct {
		AppID     string `json:"appId"`
		AppSecret string `json:"appSecret"`
	}
	mnCall(t, "create the bot", adminA, "/admin/robot/create", map[string]any{"userId": "mnbot", "name": "mnbot", "displayName": "MNBot"}, &bot)
	mnCall(t, "create alice", adminA, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice"}, nil)
	rcv := newHookReceiver(t, &token.QQBotCredentials{AppID: bot.AppID, AppSecret: bot.AppSecret})
	mnCall(t, "set the webhook through A", adminA, "/admin/robot/webhook", map[string]any{"robotId": "mnbot", "url": rcv.URL()}, nil)
	mnCall(t, "create g1", adminA, "/admin/group/create", map[string]any{"operator": "alice",
		"group": map[string]any{"group_info": map[string]any{"target_id": "g1", "name": "g1", "type": 2, "owner": "alice"},
			"members": []any{map[string]any{"member_id": "mnbot"}}}}, nil)
	b := newBacklog(t, frames)
	b.until("GROUP_ADD_ROBOT", 1, 0)
	d := waitDeliveries(t, "the delivering node", adminA, func(d deliveriesResult) bool { return d.Webhook.DeliveredSeq == 1 })
	holder := nodes[d.Webhook.Node]
	if holder == nil {
		t.Fatalf("the stream's lease is held by %q, not a node of this run %v", d.Webhook.Node, nodes)
	}
	other := a
	if holder == a {
		other = bn
	}
	admin := client.NewAdmin(other.Admin, secret)

	// Writes through the other node; the holder is killed in the middle of the backlog.
	rcv.mu.Lock()
	rcv.delay = 5 * time.Millisecond
	rcv.mu.Unlock()
	allow := true
	write := func(what string, count int) {
		for range count {
			allow = !allow
			mnProactive(t, what, admin, "alice", "g1", allow)
		}
	}
	write("backlog", 150)
	b.until("part of the backlog", 0, 20)
	holder.kill(t)
	write("after the kill", 10)
	b.until("everything, from the other node", 2+150+10, 0) // s is the log seq plus one
	b.all()
	d = waitDeliveries(t, "taken over", admin, func(d deliveriesResult) bool { return d.Webhook.DeliveredSeq == int64(b.last)-1 })
	if nodes[d.Webhook.Node] != other {
		t.Fatalf("the stream is held by %q after the kill, want %s", d.Webhook.Node, other.name)
	}
	t.Logf("%d frames repeated after the crash", b.repeated())
}
