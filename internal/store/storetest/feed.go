package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qun-chat/qun/internal/group"
)

// exactTimes compares what the gateway renders of a time exactly: the
// instant and its zone. A handed event must read as the log reads.
var exactTimes = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b) && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
	}),
}

// checkHanded checks what a feed's Take gave against the log: every handed
// event (and its message) is exactly what a read of the log gives for its
// seq, in seq order; woken is at least the bot's last seq (the commits
// before the Take have returned); and if the take claims to be complete
// after cursor (not lost, no gap, up to woken), it holds every event of the
// log after cursor. It returns the cursor after the take.
func checkHanded(t *testing.T, s Store, bot string, cursor int64, handed []group.CommittedEvent, woken int64, lost bool) int64 {
	t.Helper()
	last := read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq(bot) })
	if woken < last {
		t.Errorf("Take: woken %d, behind the bot's last seq %d", woken, last)
	}
	complete := !lost
	next := cursor
	for i, h := range handed {
		if i > 0 && h.Event.Seq <= handed[i-1].Event.Seq {
			t.Errorf("handed seq %d after %d", h.Event.Seq, handed[i-1].Event.Seq)
		}
		if h.Event.BotID != bot {
			t.Errorf("handed an event of bot %q to a feed of %q", h.Event.BotID, bot)
		}
		e := read(t, s, func(r group.Reader) (group.Event, error) { return r.Event(bot, h.Event.Seq) })
		if d := cmp.Diff(e, h.Event, exactTimes); d != "" {
			t.Errorf("handed event %d differs from the log's (-log +handed):\n%s", h.Event.Seq, d)
		}
		if h.Message != nil {
			m := read(t, s, func(r group.Reader) (group.Message, error) { return r.Message(h.Message.UID) })
			if d := cmp.Diff(m, *h.Message, exactTimes); d != "" {
				t.Errorf("handed message %d differs from the log's (-log +handed):\n%s", m.UID, d)
			}
			if h.Message.UID != h.Event.MessageUID {
				t.Errorf("event %d handed with message %d, names %d", h.Event.Seq, h.Message.UID, h.Event.MessageUID)
			}
		}
		if h.Event.Seq <= cursor {
			continue
		}
		if h.Event.Seq != next+1 {
			complete = false
		}
		next = h.Event.Seq
	}
	if complete && next >= woken {
		evs := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events(bot, cursor, 1000) })
		var got []group.Event
		for _, h := range handed {
			if h.Event.Seq > cursor {
				got = append(got, h.Event)
			}
		}
		if d := cmp.Diff(evs, got, exactTimes); d != "" {
			t.Errorf("a take complete after seq %d is not the log after it (-log +handed):\n%s", cursor, d)
		}
		return next
	}
	return last
}

// testFeedEvents checks the seam of FeedEvents: a store may hand a feed
// nothing (the reader then reads the log), but what it hands is the log's,
// whole, in order; never a rolled-back event, never an event of another
// bot; and a commit that writes the bot's user, after which a reader must
// read the log again, never leaves a take that claims to be complete.
func testFeedEvents(t *testing.T, s Store) {
	// A time with nanoseconds, in a zone not UTC: a store keeps less.
	when := time.Date(2025, 3, 14, 16, 9, 26, 535_123_456, time.FixedZone("X", 3600))
	feed := s.FeedEvents("bot1")
	defer feed.Close()
	other := s.FeedEvents("bot2")
	defer other.Close()

	var cursor int64
	update(t, s, func(tx group.Tx) error {
		m, err := tx.AppendMessage(group.Message{GroupID: "g", Sender: "alice", Payload: payload("hi @bot1"), CreatedAt: when})
		if err != nil {
			return err
		}
		for _, e := range []group.Event{
			{BotID: "bot1", Type: group.EventAtMessage, GroupID: "g", OperatorID: "alice", MessageUID: m.UID, CreatedAt: when},
			{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g2", OperatorID: "alice", CreatedAt: when},
			{BotID: "bot2", Type: group.EventAddRobot, GroupID: "g", OperatorID: "bob", CreatedAt: when},
		} {
			if _, err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	// A rolled-back event is not handed.
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventDelRobot, GroupID: "g", CreatedAt: when}); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("failing Update: %v", err)
	}
	update(t, s, func(tx group.Tx) error {
		_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventDelRobot, GroupID: "g3", OperatorID: "carol", CreatedAt: when})
		return err
	})
	handed, woken, lost := feed.Take()
	for _, h := range handed {
		if h.Event.Type == group.EventDelRobot && h.Event.GroupID == "g" {
			t.Error("a rolled-back event was handed")
		}
	}
	cursor = checkHanded(t, s, "bot1", cursor, handed, woken, lost)
	h2, w2, l2 := other.Take()
	checkHanded(t, s, "bot2", 0, h2, w2, l2)

	// Taken: the next take holds only what came after.
	if handed, _, _ := feed.Take(); len(handed) != 0 {
		t.Errorf("a second take handed %d events again", len(handed))
	}

	// A commit that writes the bot's user leaves no complete take.
	update(t, s, func(tx group.Tx) error {
		if err := tx.PutUser(group.User{ID: "bot1", Name: "renamed"}); err != nil {
			return err
		}
		_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g4", CreatedAt: when})
		return err
	})
	handed, woken, lost = feed.Take()
	if complete(cursor, handed, woken, lost) {
		t.Error("after a commit that wrote the bot's user, a take claims to be complete: the reader would render with the old user")
	}
	cursor = checkHanded(t, s, "bot1", cursor, handed, woken, lost)

	// A closed feed is handed nothing.
	feed.Close()
	update(t, s, func(tx group.Tx) error {
		_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g5", CreatedAt: when})
		return err
	})
	if handed, _, lost := feed.Take(); len(handed) != 0 || !lost {
		t.Errorf("a closed feed's take: %d events, lost %v; want none, lost", len(handed), lost)
	}
	_ = cursor
}

// complete reports whether a take stands in for the log after cursor.
func complete(cursor int64, handed []group.CommittedEvent, woken int64, lost bool) bool {
	if lost {
		return false
	}
	next := cursor
	for _, h := range handed {
		if h.Event.Seq <= cursor {
			continue
		}
		if h.Event.Seq != next+1 {
			return false
		}
		next++
	}
	return next >= woken
}
