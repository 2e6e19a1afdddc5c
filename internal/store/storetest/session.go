package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testSession(t *testing.T, s group.Store) {
	putSession := func(tx group.Tx) func(group.Session) error { return tx.PutSession }
	get := func(id string) group.Session {
		t.Helper()
		return read(t, s, func(r group.Reader) (group.Session, error) { return r.Session(id) })
	}

	// A new session as identify stores it: its progress starts at the log's end.
	sess := group.Session{ID: "sess-1", BotID: "bot1", ShardID: 1, ShardCount: 4, Intents: 1<<25 | 1<<30,
		CreatedAt: t0, UpdatedAt: t0, Cursor: 7, Sent: 7, ConnID: "conn-a"}
	put(t, s, putSession, sess)
	diff(t, "Session", sess, get("sess-1"))

	t.Run("Progress", func(t *testing.T) {
		// A touch moves the progress; Cursor may pass Sent (events of other shards).
		sess.UpdatedAt, sess.Cursor, sess.Sent = at(time.Minute), 1<<40, 1<<40-3
		put(t, s, putSession, sess)
		diff(t, "Session after replace", sess, get("sess-1"))
	})
	t.Run("TakeOver", func(t *testing.T) {
		// A resume elsewhere replaces the connection; the old one reads it back
		// and finds it is no longer its own, inside an Update.
		sess.ConnID, sess.Cursor, sess.Sent = "conn-b", 5, 5
		put(t, s, putSession, sess)
		update(t, s, func(tx group.Tx) error {
			cur, err := tx.Session("sess-1")
			if err != nil {
				return err
			}
			diff(t, "Session read in an Update", sess, cur)
			return nil
		})
	})
	t.Run("Zero", func(t *testing.T) {
		// A session stored without progress (as before it was kept) reads back zero.
		zero := group.Session{ID: "sess-0", BotID: "bot1", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0}
		put(t, s, putSession, zero)
		diff(t, "Session without progress", zero, get("sess-0"))
	})
	t.Run("Separate", func(t *testing.T) {
		other := group.Session{ID: "sess-2", BotID: "bot2", ShardCount: 1, CreatedAt: t0, UpdatedAt: t0, Cursor: 1, Sent: 1, ConnID: "conn-c"}
		put(t, s, putSession, other)
		diff(t, "another session", other, get("sess-2"))
		diff(t, "Session after another was put", sess, get("sess-1"))
	})

	wantNotExist(t, s, "Session(unknown)", func(r group.Reader) (group.Session, error) { return r.Session("unknown") })
}
