package main

// Helpers of TestMultiNode: a PostgreSQL database of its own, qun nodes as
// separate processes, a switchable loopback load balancer, and botgo's
// process-wide handlers.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/qun-chat/qun/internal/app"
	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/event"
)

// mnWait bounds every wait of the multi-node test: generous, never a timing
// assertion.
const mnWait = 30 * time.Second

// mnCreateDatabase creates a fresh database on the server dsn points at,
// dropped WITH (FORCE) when t ends, and returns its DSN.
func mnCreateDatabase(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Fatalf("%s must be a postgres:// URL (qun serve --db takes only those), got %q", mnDSNVar, app.Redact(dsn))
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "qun_mn_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), mnWait)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", app.Redact(dsn), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), mnWait)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// mnBuild builds the qun binary from this package's directory (go caches
// the build, so only the first run of a process pays for it), with the race
// detector when the test runs with it, so that the nodes are checked too.
func mnBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "qun")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output for the test to read while the
// process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// qunNode is one `qun serve` process.
type qunNode struct {
	name    string
	data    string
	cmd     *exec.Cmd
	stdout  lockedBuffer
	stderr  lockedBuffer
	done    chan struct{} // closed when the process has exited and its output is read
	err     error         // cmd.Wait's, once done is closed
	killed  bool          // stopped with SIGKILL on purpose
	stopped bool          // stop was called
	Public  string        // http://host:port of the public listener
	Admin   string        // http://host:port of the Admin API
}

// secretOutput is all a node prints on stdout when it generates the admin secret.
var secretOutput = regexp.MustCompile(`\Aqun: generated the Admin API secret \(kept in the database, shared by every node; shown only this once\):\n\S+\n\z`)

var listeningLine = regexp.MustCompile(`msg="qun listening" public=(\S+) admin=(\S+)`)

// mnCluster is one run's database, binary, proxy and nodes.
type mnCluster struct {
	t     *testing.T
	tmp   string
	bin   string
	db    string // the DSN of the run's database
	proxy *lbProxy
	extra []string // more flags for every node started

	mu    sync.Mutex
	nodes []*qunNode
}

// newMNCluster skips t without mnDSNVar; else it creates the run's
// database, builds qun and starts the proxy. When t ends it stops the proxy,
// then the nodes (SIGTERM, exit 0), then drops the database.
func newMNCluster(t *testing.T) *mnCluster {
	t.Helper()
	dsn := os.Getenv(mnDSNVar)
	if dsn == "" {
		t.Skipf("%s is not set: skipping the multi-node test (e.g. %s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')", mnDSNVar, mnDSNVar)
	}
	c := &mnCluster{t: t, tmp: t.TempDir()} // removed after the nodes have stopped (cleanups run last first)
	c.db = mnCreateDatabase(t, dsn)
	c.bin = mnBuild(t, c.tmp)
	c.proxy = newLBProxy()
	t.Cleanup(func() {
		c.proxy.close()
		c.mu.Lock()
		nodes := c.nodes
		c.mu.Unlock()
		for i := len(nodes) - 1; i >= 0; i-- {
			nodes[i].stop(t)
		}
		// Every node has exited, so its output is complete: the admin
		// secret was printed once, by one node, and no node (killed ones
		// included) reported a data race.
		var printed []string
		for _, n := range nodes {
			if strings.Contains(n.stderr.String(), "WARNING: DATA RACE") {
				t.Errorf("node %s reported a data race:\n%s", n.name, n.stderr.String())
			}
			if out := n.stdout.String(); out != "" {
				if !secretOutput.MatchString(out) {
					t.Errorf("step 2: node %s printed %q on stdout, want nothing or the generated admin secret", n.name, out)
				}
				printed = append(printed, n.name)
			}
		}
		if len(nodes) > 0 && len(printed) != 1 {
			t.Errorf("step 2: nodes %v printed an admin secret, want exactly one (the first to start)", printed)
		}
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("node %s stdout:\n%s\nnode %s stderr (tail):\n%s", n.name, n.stdout.String(), n.name, mnTail(n.stderr.String(), 60))
			}
			logs, dropped := mnBotgoLog()
			t.Logf("botgo's last log lines (%d frames dropped):\n%s", dropped, logs)
		}
	})
	return c
}

// start starts a node with the data directory data (under the run's
// temporary directory) and waits until it listens.
func (c *mnCluster) start(name, data string) *qunNode {
	c.t.Helper()
	n, err := c.startNode(name, data)
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// startNode starts `qun serve` on the run's database with its own data
// directory, and waits for its "qun listening" line. It may run on any
// goroutine.
func (c *mnCluster) startNode(name, data string) (*qunNode, error) {
	n := &qunNode{name: name, data: filepath.Join(c.tmp, data), done: make(chan struct{})}
	n.cmd = exec.Command(c.bin, "serve", "--db", c.db, "--data", n.data, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--public-url", c.proxy.URL(), "--robot-rate", "0", "--identify-rate", "-1")
	n.cmd.Args = append(n.cmd.Args, c.extra...)
	// The flags alone configure the node: no QUN_* variable of the caller's.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QUN_") {
			n.cmd.Env = append(n.cmd.Env, kv)
		}
	}
	n.cmd.Stdout, n.cmd.Stderr = &n.stdout, &n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node %s: %v", name, err)
	}
	go func() {
		n.err = n.cmd.Wait()
		close(n.done)
	}()
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	deadline := time.NewTimer(mnWait)
	defer deadline.Stop()
	for {
		if m := listeningLine.FindStringSubmatch(n.stderr.String()); m != nil {
			n.Public, n.Admin = "http://"+m[1], "http://"+m[2]
			return n, nil
		}
		select {
		case <-n.done:
			n.killed = true // nothing to stop
			return nil, fmt.Errorf("node %s exited before listening: %v\nstdout:\n%s\nstderr:\n%s", name, n.err, n.stdout.String(), n.stderr.String())
		case <-deadline.C:
			n.cmd.Process.Kill()
			<-n.done
			n.killed = true
			return nil, fmt.Errorf("node %s printed no \"qun listening\" line within %v\nstderr:\n%s", name, mnWait, n.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// exited reports whether the process has exited.
func (n *qunNode) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// kill stops the node with SIGKILL, as a crash: its connections die without
// a close frame. It returns once the process is gone.
func (n *qunNode) kill(t *testing.T) {
	t.Helper()
	n.killed = true
	if err := n.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill node %s: %v", n.name, err)
	}
	select {
	case <-n.done:
	case <-time.After(mnWait):
		t.Fatalf("node %s still running %v after SIGKILL", n.name, mnWait)
	}
}

// stop stops the node with SIGTERM and checks that it exits 0; SIGKILL is
// the fallback. A node that was killed on purpose, or has exited, is left alone.
func (n *qunNode) stop(t *testing.T) {
	t.Helper()
	if n.killed || n.stopped {
		return
	}
	n.stopped = true
	if n.exited() {
		t.Errorf("node %s exited by itself before it was stopped: %v\nstderr:\n%s", n.name, n.err, n.stderr.String())
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(mnWait):
		n.cmd.Process.Kill()
		<-n.done
		t.Errorf("node %s did not exit within %v of SIGTERM; killed\nstderr:\n%s", n.name, mnWait, n.stderr.String())
		return
	}
	if n.err != nil {
		t.Errorf("node %s: SIGTERM: exit %v, want exit 0\nstderr:\n%s", n.name, n.err, n.stderr.String())
	}
}

// lbProxy stands in for a load balancer in front of the nodes: a loopback
// reverse proxy (httputil.ReverseProxy passes WebSocket upgrades through)
// whose backend the test switches. With no backend it answers 502.
type lbProxy struct {
	srv *httptest.Server
	tr  *http.Transport

	mu       sync.Mutex
	name     string   // the backend's name; "" when down
	backend  *url.URL // nil when down
	hijacked map[net.Conn]bool
	upgrades []string // the backend of each WebSocket upgrade passed on, in order
	refused  int      // WebSocket upgrades answered 502 while down
}

func newLBProxy() *lbProxy {
	p := &lbProxy{hijacked: map[net.Conn]bool{}, tr: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}}
	p.srv = httptest.NewUnstartedServer(p)
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateHijacked { // a proxied WebSocket
			p.mu.Lock()
			p.hijacked[c] = true
			p.mu.Unlock()
		}
	}
	p.srv.Start()
	return p
}

// URL is the proxy's base URL, the nodes' --public-url.
func (p *lbProxy) URL() string { return p.srv.URL }

// set points the proxy at a node; nil takes it down.
func (p *lbProxy) set(n *qunNode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == nil {
		p.name, p.backend = "", nil
		return
	}
	u, err := url.Parse(n.Public)
	if err != nil {
		panic(err)
	}
	p.name, p.backend = n.name, u
}

func (p *lbProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	p.mu.Lock()
	name, target := p.name, p.backend
	if ws {
		if target == nil {
			p.refused++
		} else {
			p.upgrades = append(p.upgrades, name)
		}
	}
	p.mu.Unlock()
	if target == nil {
		http.Error(w, "no backend", http.StatusBadGateway)
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: p.tr,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	rp.ServeHTTP(w, r)
}

// stats returns the backends of the upgrades passed on and the number refused.
func (p *lbProxy) stats() ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.upgrades...), p.refused
}

// close cuts every proxied WebSocket and stops the proxy.
func (p *lbProxy) close() {
	p.mu.Lock()
	p.name, p.backend = "", nil
	for c := range p.hijacked {
		c.Close()
	}
	clear(p.hijacked)
	p.mu.Unlock()
	p.srv.Close()
	p.tr.CloseIdleConnections()
}

// mnFrame is a dispatch as botgo handed it to a handler.
type mnFrame struct {
	Type      string // READY, RESUMED or the event type
	Seq       uint32 // the frame's s
	EventID   string // the frame's id
	SessionID string // READY's session_id; else the id of the botgo session the frame came on
	Group     string // group_openid (group_id of an at-message)
	Op        string // op_member_openid, the author of an at-message, READY's user id
	MsgID     string // an at-message's id
	Content   string // an at-message's content
}

func (f mnFrame) String() string {
	s := fmt.Sprintf("%s s=%d", f.Type, f.Seq)
	if f.Content != "" {
		s += fmt.Sprintf(" %q", f.Content)
	}
	return s
}

// mnBotgo is botgo's side of the test. botgo keeps its handlers, its logger
// and its session managers' goroutines process-wide, and its session manager
// cannot be stopped: the handlers and the logger are installed once per
// process, and each run of the test attaches its own sink. A session manager
// of an earlier run (-count) keeps dialling its closed proxy; it can never
// authenticate against a later run's database.
//
// Every handler and every logger call takes mu. botgo's reader, dispatcher
// and session goroutines share a dto.Session without synchronisation (its
// dispatcher writes LastSeq, the session goroutine copies the session to
// resume); botgo logs before it copies, so mu orders those accesses for the
// race detector, as they are ordered in time.
var mnBotgo struct {
	once   sync.Once
	intent dto.Intent

	mu      sync.Mutex
	sink    chan<- mnFrame // the current run's; nil between runs
	dropped int            // frames the sink had no room for
	log     []string       // the last lines botgo logged
}

// mnBotgoAttach installs botgo's handlers (once) and returns the frames of
// this run, and the intents to connect with.
func mnBotgoAttach(t *testing.T) (<-chan mnFrame, dto.Intent) {
	mnBotgo.once.Do(func() {
		botgo.SetLogger(mnLogger{})
		for _, typ := range []dto.EventType{"GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE"} {
			botgo.RegisterDispatchEventHandler(typ, func(ev *dto.WSPayload, raw []byte) error {
				var d struct {
					GroupOpenID    string `json:"group_openid"`
					OpMemberOpenID string `json:"op_member_openid"`
				}
				if err := event.ParseData(raw, &d); err != nil {
					return err
				}
				mnDeliver(mnFrame{Type: string(ev.Type), Seq: ev.Seq, EventID: ev.EventID, SessionID: sessionID(ev), Group: d.GroupOpenID, Op: d.OpMemberOpenID})
				return nil
			})
		}
		botgo.RegisterDispatchEventHandler("RESUMED", func(ev *dto.WSPayload, _ []byte) error {
			mnDeliver(mnFrame{Type: string(ev.Type), Seq: ev.Seq, SessionID: sessionID(ev)})
			return nil
		})
		mnBotgo.intent = event.RegisterHandlers(
			event.GroupATMessageEventHandler(func(ev *dto.WSPayload, d *dto.WSGroupATMessageData) error {
				f := mnFrame{Type: string(ev.Type), Seq: ev.Seq, EventID: ev.EventID, SessionID: sessionID(ev), Group: d.GroupID, MsgID: d.ID, Content: d.Content}
				if d.Author != nil {
					f.Op = d.Author.ID
				}
				mnDeliver(f)
				return nil
			}),
			event.ReadyHandler(func(ev *dto.WSPayload, d *dto.WSReadyData) {
				mnDeliver(mnFrame{Type: "READY", Seq: ev.Seq, SessionID: d.SessionID, Op: d.User.ID})
			}),
		) | dto.IntentGroupMessages // raw dispatch handlers add no intent
	})
	ch := make(chan mnFrame, 1000)
	mnBotgo.mu.Lock()
	mnBotgo.sink, mnBotgo.dropped, mnBotgo.log = ch, 0, nil
	mnBotgo.mu.Unlock()
	t.Cleanup(func() {
		mnBotgo.mu.Lock()
		mnBotgo.sink = nil
		mnBotgo.mu.Unlock()
	})
	return ch, mnBotgo.intent
}

func sessionID(ev *dto.WSPayload) string {
	if ev.Session == nil {
		return ""
	}
	return ev.Session.ID
}

func mnDeliver(f mnFrame) {
	mnBotgo.mu.Lock()
	defer mnBotgo.mu.Unlock()
	if mnBotgo.sink == nil {
		return
	}
	select {
	case mnBotgo.sink <- f:
	default:
		mnBotgo.dropped++
	}
}

// mnBotgoLog returns the last lines botgo logged, and the frames dropped.
func mnBotgoLog() (string, int) {
	mnBotgo.mu.Lock()
	defer mnBotgo.mu.Unlock()
	return strings.Join(mnBotgo.log, "\n"), mnBotgo.dropped
}

// mnLogger keeps botgo's last log lines for a failing test's output. It
// never formats a dto.Session: botgo passes its shared one from goroutines
// that do not own it.
type mnLogger struct{}

func (mnLogger) Debug(v ...any)                 { mnLog("DEBUG", "", v) }
func (mnLogger) Info(v ...any)                  { mnLog("INFO", "", v) }
func (mnLogger) Warn(v ...any)                  { mnLog("WARN", "", v) }
func (mnLogger) Error(v ...any)                 { mnLog("ERROR", "", v) }
func (mnLogger) Debugf(format string, v ...any) { mnLog("DEBUG", format, v) }
func (mnLogger) Infof(format string, v ...any)  { mnLog("INFO", format, v) }
func (mnLogger) Warnf(format string, v ...any)  { mnLog("WARN", format, v) }
func (mnLogger) Errorf(format string, v ...any) { mnLog("ERROR", format, v) }
func (mnLogger) Sync() error                    { return nil }

func mnLog(level, format string, args []any) {
	safe := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case *dto.Session, dto.Session:
			safe[i] = "[session]"
		default:
			safe[i] = a
		}
	}
	var line string
	if format == "" {
		line = fmt.Sprint(safe...)
	} else {
		line = fmt.Sprintf(format, safe...)
	}
	if len(line) > 400 {
		line = line[:400] + "…"
	}
	mnBotgo.mu.Lock()
	defer mnBotgo.mu.Unlock()
	mnBotgo.log = append(mnBotgo.log, time.Now().Format("15:04:05.000 ")+level+" "+line)
	if len(mnBotgo.log) > 200 {
		mnBotgo.log = mnBotgo.log[len(mnBotgo.log)-200:]
	}
}
