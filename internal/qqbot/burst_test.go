package qqbot

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// countingListener counts the writes to the sockets it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1) // before the write: a client that read the bytes sees it counted
	return c.Conn.Write(p)
}

// countedServer serves e's door on another port-0 listener that counts socket writes.
func (e *env) countedServer() (base string, writes *atomic.Int64) {
	e.t.Helper()
	writes = new(atomic.Int64)
	hs := httptest.NewUnstartedServer(e.srv.Handler())
	hs.Listener = countingListener{hs.Listener, writes}
	hs.Start()
	e.t.Cleanup(hs.Close)
	return hs.URL, writes
}

// burst commits n at-messages of alice in g1, each mentioning bot1, and their
// events in one Update, as group commit does under load: the gateway is woken
// once for all of them. Message i's text is "@QunBot <i><pad>".
func (e *env) burst(n int, pad string) {
	e.t.Helper()
	now := e.clock.Now()
	err := e.store.Update(e.ctx(), func(tx group.Tx) error {
		for i := range n {
			m, err := tx.AppendMessage(group.Message{GroupID: "g1", Sender: "alice", CreatedAt: now,
				Payload: group.Payload{Type: 1, SearchableContent: fmt.Sprintf("@QunBot %d%s", i, pad), MentionedType: 1, MentionedTarget: []string{"bot1"}}})
			if err != nil {
				return err
			}
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAtMessage, GroupID: "g1", OperatorID: "alice", MessageUID: m.UID, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("burst: %v", err)
	}
}

// readBurst reads n at-message frames and checks that they are the burst's,
// complete and in order: s grows by one, and frame i carries message i.
func (w *wsClient) readBurst(n int, s int64, pad string) {
	w.t.Helper()
	for i := range n {
		f := w.event("GROUP_AT_MESSAGE_CREATE")
		var d atMessageData
		if err := json.Unmarshal(f.D, &d); err != nil {
			w.t.Fatal(err)
		}
		if want := fmt.Sprintf(" %d%s", i, pad); *f.S != s+int64(i)+1 || d.Content != want {
			w.t.Fatalf("frame %d of the burst: s=%d content %.20q, want s=%d content %.20q", i, *f.S, d.Content, s+int64(i)+1, want)
		}
	}
}

// A burst of events is written to the socket together (one write per read of
// the log, DefaultEventBatch events), each event its own message, complete and
// in order.
func TestGatewayBurstIsOneWrite(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	e.createGroup("alice", "g1", "bot1")
	tok := e.token(bot)
	base, writes := e.countedServer()

	w := e.dialAt(base)
	_, s := w.identify(tok, intentsGroup, [2]int{0, 1})
	const n = 2*DefaultEventBatch + 50
	before := writes.Load()
	e.burst(n, "")
	w.readBurst(n, s, "")
	// Three reads of the log, one write each (the frames are some 450 bytes).
	if got, want := writes.Load()-before, int64(3); got != want {
		t.Errorf("a burst of %d events took %d socket writes, want %d", n, got, want)
	}

	// Frames larger than DefaultBurstBytes together still arrive whole and in order.
	pad := strings.Repeat("x", DefaultBurstBytes/4)
	s += n
	before = writes.Load()
	e.burst(20, pad)
	w.readBurst(20, s, pad)
	if got := writes.Load() - before; got < 20/4 || got >= 20 {
		t.Errorf("a burst of 20 frames of %d bytes took %d socket writes, want a few", len(pad), got)
	}

	// Heartbeats and live events go on after bursts.
	w.sendRaw(`{"op":1,"d":1}`)
	if f := w.read(); f.Op != opHeartbeatACK {
		t.Fatalf("heartbeat: %+v", f)
	}
	e.mention("alice", "g1", "@QunBot after", "bot1")
	if f := w.event("GROUP_AT_MESSAGE_CREATE"); *f.S != s+21 {
		t.Errorf("live event s=%d, want %d", *f.S, s+21)
	}
}

// A client that stops reading in the middle of a burst is disconnected
// within the write timeout, and its connection's slot is freed.
func TestGatewayBurstToAStuckClient(t *testing.T) {
	e := newEnv(t, func(_ *group.Config, o *Options) { o.WriteTimeout = 100 * time.Millisecond })
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	e.createGroup("alice", "g1", "bot1")
	w := e.dial()
	w.identify(e.token(bot), intentsGroup, [2]int{0, 1})
	// 16 MiB: more than the socket buffers of both ends hold.
	e.burst(DefaultEventBatch, strings.Repeat("x", 160<<10))
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		e.srv.mu.Lock()
		live := len(e.srv.conns)
		e.srv.mu.Unlock()
		if live == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the connection of a client that does not read is still served after %v", wait)
		}
	}
}
