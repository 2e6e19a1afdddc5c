package qqbot

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/group"
)

// TestDecideResume covers every way a resume is decided, on what the
// transaction that claims the session reads. Seqs are the log's (a frame's s
// is one more).
func TestDecideResume(t *testing.T) {
	const retention = time.Hour // sessions and events alike
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sess := func(cursor, sent int64) group.Session {
		return group.Session{ID: "s1", BotID: "bot1", ShardCount: 1, UpdatedAt: now.Add(-time.Minute), Cursor: cursor, Sent: sent, ConnID: "old"}
	}
	event := func(seq int64, age time.Duration) []group.Event {
		return []group.Event{{BotID: "bot1", Seq: seq, Type: group.EventAddRobot, CreatedAt: now.Add(-age)}}
	}
	state := func(seq int64, s group.Session, last int64, next []group.Event) resumeState {
		return resumeState{botID: "bot1", seq: seq, now: now, sess: s, last: last, next: next}
	}
	withIntents := func(identified, allowed int64) resumeState {
		st := state(5, sess(5, 5), 5, nil)
		st.sess.Intents, st.allowed = identified, allowed
		return st
	}
	expired := sess(5, 5)
	expired.UpdatedAt = now.Add(-retention - time.Millisecond)
	justInTime := sess(5, 5)
	justInTime.UpdatedAt = now.Add(-retention)
	for _, tc := range []struct {
		name     string
		st       resumeState
		wantFrom int64
		wantErr  error
	}{
		{"unknown session", state(0, group.Session{}, 0, nil), 0, errSessionUnknown},
		{"another bot's session", resumeState{botID: "bot2", seq: 5, now: now, sess: sess(5, 5)}, 0, errSessionForeign},
		{"expired session", state(5, expired, 5, nil), 0, errSessionExpired},
		{"session seen exactly one retention ago", state(5, justInTime, 5, nil), 5, nil},
		{"seq ahead of the log", state(6, sess(5, 5), 5, nil), 0, errSeqAhead},
		{"intents withdrawn since identify", withIntents(1<<25|1, 1<<25), 0, errIntentsWithdrawn},
		{"intents still allowed", withIntents(1<<25, 1<<25|1), 5, nil},

		{"at the end of the log", state(5, sess(5, 5), 5, nil), 5, nil},
		{"events since", state(5, sess(5, 5), 8, event(6, time.Minute)), 5, nil},
		{"missed events pruned", state(5, sess(5, 5), 8, event(7, time.Minute)), 0, errEventsGone},
		{"missed events all pruned", state(5, sess(5, 5), 8, nil), 0, errEventsGone},
		{"missed events past retention, not pruned yet", state(5, sess(5, 5), 8, event(6, retention+time.Second)), 0, errEventsGone},

		// seq below Sent: the client missed frames it was sent.
		{"missed frames", state(3, sess(5, 5), 5, event(4, time.Minute)), 3, nil},
		{"missed frames pruned", state(3, sess(5, 5), 5, event(5, time.Minute)), 0, errEventsGone},
		{"seq 0 after events were sent", state(0, sess(5, 5), 5, event(1, time.Minute)), 0, nil},

		// seq at Sent but below Cursor: the events up to Cursor were not the
		// session's (a quiet shard), so the replay starts after Cursor.
		{"quiet shard at the end", state(2, sess(9, 2), 9, nil), 9, nil},
		{"quiet shard, events since", state(2, sess(9, 2), 12, event(10, time.Minute)), 9, nil},
		{"quiet shard, events since pruned", state(2, sess(9, 2), 12, event(11, time.Minute)), 0, errEventsGone},
		{"seq 0 on a new session (READY's s not kept)", state(0, sess(9, 0), 9, nil), 9, nil},
		{"seq past Cursor", state(11, sess(9, 2), 12, event(12, time.Minute)), 11, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, err := decideResume(tc.st, retention, retention)
			if !errors.Is(err, tc.wantErr) || (err == nil && from != tc.wantFrom) {
				t.Errorf("decideResume = %d, %v; want %d, %v", from, err, tc.wantFrom, tc.wantErr)
			}
		})
	}
}

// READY's s is never 0, and a client that resumes from it, from max(s, 1)
// (qq-official-bot's "seq || 1") or from 0 (a client that keeps no s) gets the
// events it missed exactly once: here a bot's very first event, committed
// while the client was away. A client that got an event and resumes from its
// s gets nothing again.
func TestGatewayReadySeqNeverZero(t *testing.T) {
	for i, tc := range []struct {
		name string
		seq  func(ready int64) int64 // the seq a client resumes from
	}{
		{"READY's s (botgo, botpy, qq-guild-bot)", func(s int64) int64 { return s }},
		{"max(s, 1) (qq-official-bot)", func(s int64) int64 { return max(s, 1) }},
		{"0 (no s kept)", func(int64) int64 { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			botID := fmt.Sprintf("bot%d", i)
			tok := e.token(e.robot(botID, "QunBot"))
			e.users("alice")

			w := e.dial()
			sess, s := w.identify(tok, intentsGroup, [2]int{0, 1})
			if s < 1 {
				t.Errorf("READY s=%d for a bot without events, want at least 1 (qq-guild-bot keeps no session for 0)", s)
			}
			w.sendRaw(`{"op":3}`)
			w.expectClose(closeUnknownOp)

			e.createGroup("alice", "g1", botID) // the bot's first event
			fs, resumed := e.replay(tok, sess, tc.seq(s))
			if len(fs) != 1 || fs[0].T != "GROUP_ADD_ROBOT" {
				t.Fatalf("resume from %d after READY s=%d: got %s, want the bot's GROUP_ADD_ROBOT once", tc.seq(s), s, frameTypes(fs))
			}
			if got := *fs[0].S; got <= s || resumed != got {
				t.Errorf("GROUP_ADD_ROBOT s=%d, RESUMED s=%d after READY s=%d: want both the event's s, above READY's", got, resumed, s)
			}

			// The client got the event: resuming from its s repeats nothing,
			// and what comes next is replayed once.
			e.mention("alice", "g1", "@QunBot next", botID)
			fs, last := e.replay(tok, sess, resumed)
			if len(fs) != 1 || fs[0].T != "GROUP_AT_MESSAGE_CREATE" || *fs[0].S != resumed+1 || last != resumed+1 {
				t.Errorf("resume from %d: got %s, RESUMED s=%d; want only the mention, s=%d", resumed, frameTypes(fs), last, resumed+1)
			}
			if fs, s := e.replay(tok, sess, last); len(fs) != 0 || s != last {
				t.Errorf("resume from %d at the end: got %s, RESUMED s=%d", last, frameTypes(fs), s)
			}
		})
	}
}

// A bot with events: READY's s is that of its last event, and a resume
// from it (or from 0) gets only what came after.
func TestGatewayReadySeqAfterEvents(t *testing.T) {
	e := newEnv(t)
	tok := e.token(e.robot("bot1", "QunBot"))
	e.users("alice")
	w := e.dial()
	_, s0 := w.identify(tok, intentsGroup, [2]int{0, 1})
	e.createGroup("alice", "g1", "bot1")
	last := *w.event("GROUP_ADD_ROBOT").S
	_ = w.c.CloseNow()

	for _, resumeAt := range []func(ready int64) int64{func(s int64) int64 { return s }, func(int64) int64 { return 0 }} {
		w = e.dial()
		sess, s := w.identify(tok, intentsGroup, [2]int{0, 1})
		if s != last || s <= s0 {
			t.Fatalf("READY s=%d after an event with s=%d (first READY s=%d): want the last event's s", s, last, s0)
		}
		w.sendRaw(`{"op":3}`)
		w.expectClose(closeUnknownOp)
		e.mention("alice", "g1", "@QunBot hi", "bot1")
		last++
		if fs, got := e.replay(tok, sess, resumeAt(s)); len(fs) != 1 || fs[0].T != "GROUP_AT_MESSAGE_CREATE" || got != last {
			t.Errorf("resume from %d after READY s=%d: got %s, RESUMED s=%d; want the mention only, s=%d", resumeAt(s), s, frameTypes(fs), got, last)
		}
	}
}

// frameTypes lists frames as "TYPE:s" for messages.
func frameTypes(fs []wsFrame) []string {
	var ts []string
	for _, f := range fs {
		ts = append(ts, fmt.Sprintf("%s:%d", f.T, *f.S))
	}
	return ts
}

// resumeRaceRounds is how often each case races its resumes. Against a
// resume that checks in one transaction and claims in another, every run
// failed, in most runs within ten rounds of three racers on one node.
const resumeRaceRounds = 50

// Resumes of one session racing, two or three, on one node or on two:
// exactly one connection ends holding the session and lives on; the others
// are closed with 4006 (after op 9, or after their RESUMED when a later claim
// took the session over).
func TestGatewayResumeRace(t *testing.T) {
	for _, kind := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind, func(_ *group.Config, o *Options) { o.IdentifyRate = -1 })
			tok := e.token(e.robot("bot1", "QunBot"))
			other := e.node()
			for _, tc := range []struct {
				name  string
				nodes []string // where each resume connects
			}{
				{"two on one node", []string{e.hs.URL, e.hs.URL}},
				{"two on two nodes", []string{e.hs.URL, other}},
				{"three on one node", []string{e.hs.URL, e.hs.URL, e.hs.URL}},
				{"three on two nodes", []string{e.hs.URL, other, other}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					defer func(parent *testing.T) { e.t = parent }(e.t)
					e.t = t
					for round := range resumeRaceRounds {
						w := e.dial()
						sess, s := w.identify(tok, intentsGroup, [2]int{0, 1})
						w.sendRaw(`{"op":3}`)
						w.expectClose(closeUnknownOp) // the session is stored, held by no live connection

						rs := make([]*wsClient, len(tc.nodes))
						for i, node := range tc.nodes {
							rs[i] = e.dialAt(node)
						}
						outcomes := make([]string, len(rs))
						var wg sync.WaitGroup
						for i, r := range rs {
							wg.Add(1)
							go func() {
								defer wg.Done()
								outcomes[i] = raceResume(r, tok, sess, s)
							}()
						}
						wg.Wait()
						// Every resume is judged: now see who holds the session.
						for i, r := range rs {
							if outcomes[i] == "resumed" {
								outcomes[i] = standing(r)
							}
						}
						winners := 0
						for _, o := range outcomes {
							switch o {
							case "live":
								winners++
							case "closed 4006", "op 9, closed 4006":
							default:
								t.Errorf("round %d: a resume ended %q", round, o)
							}
						}
						if winners != 1 {
							t.Fatalf("round %d: outcomes %q, want one live connection, the others closed with 4006", round, outcomes)
						}
						for _, r := range rs {
							_ = r.c.CloseNow()
						}
					}
				})
			}
		})
	}
}

// raceResume resumes session on w and reports how the server answered:
// "resumed", or how it refused. It does not fail the test (it runs on a
// goroutine of its own).
func raceResume(w *wsClient, token, session string, seq int64) string {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText,
		fmt.Appendf(nil, `{"op":6,"d":{"token":%q,"session_id":%q,"seq":%d}}`, "QQBot "+token, session, seq)); err != nil {
		return "write: " + err.Error()
	}
	f, err := w.next()
	switch {
	case err != nil:
		return closedWith(err)
	case f.Op == opInvalidSession:
		_, err := w.next()
		return "op 9, " + closedWith(err)
	case f.Op != opDispatch || f.T != "RESUMED":
		return fmt.Sprintf("frame %+v %s", f, f.D)
	}
	return "resumed"
}

// standing reports how a resumed connection stands: "live" if its
// heartbeats are answered, else how it was closed. A heartbeat is answered
// before the server checks who holds the session, so the second one finds
// the connection closed if it lost the session.
func standing(w *wsClient) string {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for range 2 {
		_ = w.c.Write(ctx, websocket.MessageText, []byte(`{"op":1,"d":null}`)) // a closed connection shows on the read
		f, err := w.next()
		switch {
		case err != nil:
			return closedWith(err)
		case f.Op != opHeartbeatACK:
			return fmt.Sprintf("frame %+v %s", f, f.D)
		}
	}
	return "live"
}

func closedWith(err error) string { return fmt.Sprintf("closed %d", websocket.CloseStatus(err)) }

// TestSessionsListing: a bot's sessions are listed from the store with the
// node and time of their connection, the last s sent, and whether a
// connection holds them: not once it ended, nor once it stopped being seen
// (its node died), on any node.
func TestSessionsListing(t *testing.T) {
	for _, kind := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind, func(_ *group.Config, o *Options) { o.Node = "node-a" })
			e.clock.freeze() // the live window is measured on it
			bot := e.robot("bot1", "QunBot")
			tok := e.token(bot)
			e.robot("bot2", "Other")
			e.users("alice")
			optsB := e.opts
			optsB.Node = "node-b"
			srvB, err := New(e.svc, e.store, optsB)
			if err != nil {
				t.Fatal(err)
			}
			hsB := httptest.NewServer(srvB.Handler())
			t.Cleanup(func() { srvB.Close(); hsB.Close() })

			list := func() []group.SessionStatus {
				t.Helper()
				ss, err := e.srv.Sessions(e.ctx(), "bot1", group.MaxSessionsPage)
				if err != nil {
					t.Fatalf("Sessions: %v", err)
				}
				return ss
			}
			one := func(what string) group.SessionStatus {
				t.Helper()
				ss := list()
				if len(ss) != 1 {
					t.Fatalf("%s: %d sessions, want 1: %+v", what, len(ss), ss)
				}
				return ss[0]
			}
			heartbeat := func(w *wsClient) {
				t.Helper()
				w.sendRaw(`{"op":1,"d":0}`)
				if f := w.read(); f.Op != opHeartbeatACK {
					t.Fatalf("want a heartbeat ACK, got %+v %s", f, f.D)
				}
			}

			a := e.dial()
			before := e.clock.Now()
			id, ready := a.identify(tok, intentsGroup, [2]int{0, 1})
			got := one("after identify")
			if got.ID != id || !got.Live || got.Node != "node-a" || got.ShardID != 0 || got.ShardCount != 1 ||
				got.ConnectedAt.Before(before.Truncate(time.Millisecond)) || got.LastSeq != 0 {
				t.Fatalf("after identify: %+v", got)
			}

			// An event is sent; a touch (a heartbeat after the touch interval) stores it.
			e.createGroup("alice", "g1", "bot1")
			ev := a.event("GROUP_ADD_ROBOT")
			if *ev.S != ready+1 {
				t.Fatalf("GROUP_ADD_ROBOT s %d, READY s %d", *ev.S, ready)
			}
			e.clock.advance(sessionTouchInterval)
			heartbeat(a) // touches
			heartbeat(a) // answered after the touch before it committed
			if got := one("after a touch"); got.LastSeq != *ev.S || !got.Live {
				t.Fatalf("after a touch: %+v, want last seq %d", got, *ev.S)
			}

			// Resumed on node b: b's now, and a is closed.
			b := e.dialAt(hsB.URL)
			b.resume(tok, id, *ev.S)
			b.event("RESUMED")
			a.sendRaw(`{"op":1,"d":0}`)
			a.expectClose(closeSessionInvalid)
			if got := one("after the resume on node b"); !got.Live || got.Node != "node-b" || got.ConnectedAt.Before(got.CreatedAt) {
				t.Fatalf("after the resume on node b: %+v", got)
			}

			// b ends cleanly: its last touch lets go of the session.
			if err := b.c.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Fatalf("close: %v", err)
			}
			for got := one("after the close"); got.Live; got = one("after the close") {
				select {
				case <-e.ctx().Done():
					t.Fatalf("the session is still live after its connection ended: %+v", got)
				case <-time.After(10 * time.Millisecond):
				}
			}

			// A connection whose node stops answering: live until it has not been seen for the window.
			e.clock.advance(time.Second) // so that it is the last updated
			c := e.dial()
			id2, _ := c.identify(tok, intentsGroup, [2]int{0, 1})
			ss := list()
			if len(ss) != 2 || ss[0].ID != id2 || !ss[0].Live || ss[1].Live {
				t.Fatalf("two sessions: %+v", ss)
			}
			e.clock.advance(e.srv.liveWindow())
			if ss := list(); !ss[0].Live {
				t.Fatalf("live at the end of the window: %+v", ss[0])
			}
			e.clock.advance(time.Millisecond)
			if ss := list(); ss[0].Live || ss[0].ConnID == "" {
				t.Fatalf("a session not seen for longer than the window: %+v", ss[0])
			}

			if ss, err := e.srv.Sessions(e.ctx(), "bot2", group.MaxSessionsPage); err != nil || len(ss) != 0 {
				t.Errorf("another bot's sessions: %+v, %v", ss, err)
			}
			_, err = e.srv.Sessions(e.ctx(), "nobody", group.MaxSessionsPage)
			if group.ErrorCode(err) != group.ENotExist {
				t.Errorf("Sessions of an unknown bot: %v", err)
			}
			for _, limit := range []int{0, group.MaxSessionsPage + 1} {
				if _, err := e.srv.Sessions(e.ctx(), "bot1", limit); group.ErrorCode(err) != group.EInvalidParam {
					t.Errorf("Sessions with limit %d: %v", limit, err)
				}
			}
		})
	}
}
