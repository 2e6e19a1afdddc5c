package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// putSession stores sess, whatever is stored under its id.
func putSession(t *testing.T, s Store, sess group.Session) {
	t.Helper()
	err := s.UpdateSession(t.Context(), sess.ID, func(group.Reader, group.Session, bool) (group.Session, bool, error) {
		return sess, true, nil
	})
	if err != nil {
		t.Fatalf("UpdateSession(%s): %v", sess.ID, err)
	}
}

func testSession(t *testing.T, s Store) {
	get := func(id string) group.Session {
		t.Helper()
		return must(s.Session(t.Context(), id))(t, "Session")
	}

	// A new session as identify stores it: its progress starts at the log's end.
	sess := group.Session{ID: "sess-1", BotID: "bot1", ShardID: 1, ShardCount: 4, Intents: 1<<25 | 1<<30,
		CreatedAt: t0, UpdatedAt: t0, Cursor: 7, Sent: 7, ConnID: "conn-a", Node: "node-a", ConnectedAt: t0}
	putSession(t, s, sess)
	diff(t, "Session", sess, get("sess-1"))

	t.Run("Progress", func(t *testing.T) {
		// A touch moves the progress; Cursor may pass Sent (events of other shards).
		sess.UpdatedAt, sess.Cursor, sess.Sent = at(time.Minute), 1<<40, 1<<40-3
		putSession(t, s, sess)
		diff(t, "Session after replace", sess, get("sess-1"))
	})
	t.Run("TakeOver", func(t *testing.T) {
		// A resume elsewhere replaces the connection; the old one reads it back
		// and finds it is no longer its own, inside an update.
		sess.ConnID, sess.Cursor, sess.Sent, sess.Node, sess.ConnectedAt = "conn-b", 5, 5, "node-b", at(2*time.Minute)
		putSession(t, s, sess)
		err := s.UpdateSession(t.Context(), "sess-1", func(_ group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
			if !found {
				return cur, false, errors.New("the session is not found")
			}
			diff(t, "Session read in an update", sess, cur)
			return cur, false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Zero", func(t *testing.T) {
		// A session stored without progress (as before it was kept) reads back zero.
		zero := group.Session{ID: "sess-0", BotID: "bot1", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0}
		putSession(t, s, zero)
		diff(t, "Session without progress", zero, get("sess-0"))
	})
	t.Run("Separate", func(t *testing.T) {
		other := group.Session{ID: "sess-2", BotID: "bot2", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0, Cursor: 1, Sent: 1, ConnID: "conn-c"}
		putSession(t, s, other)
		diff(t, "another session", other, get("sess-2"))
		diff(t, "Session after another was put", sess, get("sess-1"))
	})

	_, err := s.Session(t.Context(), "unknown")
	wantCode(t, "Session(unknown)", err, group.ENotExist)
}

// testBotSessions checks the listing of a bot's sessions: that bot's only,
// the last updated first (ties by id), at most limit, every field as stored.
func testBotSessions(t *testing.T, s Store) {
	list := func(botID string, limit int) []group.Session {
		t.Helper()
		return must(s.BotSessions(t.Context(), botID, limit))(t, "BotSessions")
	}
	if got := list("bot1", 10); len(got) != 0 {
		t.Fatalf("BotSessions of a bot without sessions: %+v", got)
	}
	var want []group.Session // newest first
	for i := range 5 {
		sess := group.Session{ID: fmt.Sprintf("sess-%d", i), BotID: "bot1", ShardID: i % 2, ShardCount: 2, Intents: 1 << 25,
			CreatedAt: t0, UpdatedAt: at(time.Duration(i) * time.Minute), Cursor: int64(10 + i), Sent: int64(9 + i),
			ConnID: fmt.Sprintf("conn-%d", i), Node: fmt.Sprintf("node-%d", i%2), ConnectedAt: at(time.Duration(i) * time.Second)}
		if i == 4 {
			sess.UpdatedAt = at(3 * time.Minute) // as new as sess-3: the id orders them
			sess.ConnID = ""                     // its connection ended
		}
		putSession(t, s, sess)
		want = append([]group.Session{sess}, want...)
	}
	want[0], want[1] = want[1], want[0]
	putSession(t, s, group.Session{ID: "other-bot", BotID: "bot2", ShardCount: 1, CreatedAt: t0, UpdatedAt: at(time.Hour)})

	diff(t, "BotSessions(bot1, 10)", want, list("bot1", 10))
	diff(t, "BotSessions(bot1, 2)", want[:2], list("bot1", 2))
	if got := list("bot1", 0); len(got) != 0 {
		t.Errorf("BotSessions with limit 0: %+v", got)
	}
	if got := list("nobody", 10); len(got) != 0 {
		t.Errorf("BotSessions of an unknown bot: %+v", got)
	}
	// A read: what it listed is as stored.
	diff(t, "Session after BotSessions", want[2], must(s.Session(t.Context(), want[2].ID))(t, "Session"))
}

// testUpdateSession checks what UpdateSession gives fn and what it stores:
// the stored session or none, a Reader of the same transaction, and nothing
// written unless fn asks for it and succeeds.
func testUpdateSession(t *testing.T, s Store) {
	fresh := group.Session{ID: "sess-1", BotID: "bot1", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0, Cursor: 3, ConnID: "conn-a"}
	update(t, s, func(tx group.Tx) error {
		for range 3 {
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	// As identify does: a new id, the log's end read in the same transaction.
	err := s.UpdateSession(t.Context(), fresh.ID, func(r group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
		if found {
			return cur, false, fmt.Errorf("a session that was never stored is found: %+v", cur)
		}
		diff(t, "the session not found", group.Session{}, cur)
		last, err := r.LastEventSeq("bot1")
		if err != nil {
			return cur, false, err
		}
		next := fresh
		next.Cursor = last
		return next, true, nil
	})
	if err != nil {
		t.Fatalf("UpdateSession of a new session: %v", err)
	}
	diff(t, "the new session", fresh, must(s.Session(t.Context(), fresh.ID))(t, "Session"))

	changed := fresh
	changed.ConnID, changed.UpdatedAt = "conn-b", at(time.Minute)
	for _, tt := range []struct {
		name string
		fn   func(group.Reader, group.Session, bool) (group.Session, bool, error)
		want error // nil: no error; else errTest, or EInternal for a panic
	}{
		{"NoPut", func(group.Reader, group.Session, bool) (group.Session, bool, error) { return changed, false, nil }, nil},
		{"Error", func(group.Reader, group.Session, bool) (group.Session, bool, error) { return changed, true, errTest }, errTest},
		{"Panic", func(group.Reader, group.Session, bool) (group.Session, bool, error) {
			panic("storetest: deliberate panic")
		}, group.Errorf(group.EInternal, "")},
		{"OtherID", func(group.Reader, group.Session, bool) (group.Session, bool, error) {
			other := changed
			other.ID = "sess-other"
			return other, true, nil
		}, errors.New("any")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := s.UpdateSession(t.Context(), fresh.ID, tt.fn)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("UpdateSession: %v", err)
			case errors.Is(tt.want, errTest) && !errors.Is(err, errTest):
				t.Errorf("UpdateSession: %v, want fn's error", err)
			case group.ErrorCode(tt.want) == group.EInternal && group.ErrorCode(err) != group.EInternal:
				t.Errorf("UpdateSession that panics: %v, want an EInternal error", err)
			case tt.want != nil && err == nil:
				t.Error("UpdateSession: no error")
			}
			diff(t, "the session after "+tt.name, fresh, must(s.Session(t.Context(), fresh.ID))(t, "Session"))
			_, err = s.Session(t.Context(), "sess-other")
			wantCode(t, "Session(sess-other)", err, group.ENotExist)
		})
	}
	t.Run("Put", func(t *testing.T) {
		err := s.UpdateSession(t.Context(), fresh.ID, func(_ group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
			if !found {
				return cur, false, errors.New("the stored session is not found")
			}
			diff(t, "the stored session", fresh, cur)
			return changed, true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "the session after an update", changed, must(s.Session(t.Context(), fresh.ID))(t, "Session"))
	})
}

// testConcurrentSessionClaims races resumes of one session, as two nodes'
// gateways may: each claims the session for its connection in one
// UpdateSession and notes which connection it took the session from. Run one
// after another, every claim takes it from a different connection, the
// previous claim's, and the session ends with the last one; a store that
// lets two claims read the same holder would let both think they took it
// from it, and one of them would never be closed.
func testConcurrentSessionClaims(t *testing.T, s Store) {
	const n = 16
	putSession(t, s, group.Session{ID: "sess", BotID: "bot1", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0, ConnID: "conn-first"})
	prev := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			conn := "conn-" + strconv.Itoa(i)
			err := s.UpdateSession(t.Context(), "sess", func(_ group.Reader, cur group.Session, found bool) (group.Session, bool, error) {
				if !found {
					return cur, false, errors.New("the session is gone")
				}
				prev[i] = cur.ConnID
				cur.ConnID = conn
				return cur, true, nil
			})
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()

	// The claims form one chain: conn-first, then each claim's connection
	// exactly once as another's predecessor, but the last one's.
	final := must(s.Session(t.Context(), "sess"))(t, "Session").ConnID
	takenFrom := make(map[string]int)
	for _, p := range prev {
		takenFrom[p]++
	}
	if takenFrom["conn-first"] != 1 {
		t.Errorf("%d claims took the session from its first holder, want 1", takenFrom["conn-first"])
	}
	for i := range n {
		conn := "conn-" + strconv.Itoa(i)
		want := 1
		if conn == final {
			want = 0
		}
		if takenFrom[conn] != want {
			t.Errorf("%d claims took the session from %s, want %d (the session ends with %s)", takenFrom[conn], conn, want, final)
		}
	}
}
