package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// The writer hands each commit's events to the bots' feeds, with the
// message the same Update appended, so that a caught-up gateway session
// needs no read of the log; events of a batch's Updates are handed
// together, in seq order. Another connection's commit to the file makes
// every feed lost: what it wrote was not handed.
func TestFeedHanded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	defer s.Close()
	feed := s.FeedEvents("bot")
	defer feed.Close()
	at := func(tx group.Tx) error {
		m, err := tx.AppendMessage(group.Message{GroupID: "g", Sender: "alice", Payload: group.Payload{Type: group.ContentText, SearchableContent: "@bot hi"}, CreatedAt: time.Now()})
		if err != nil {
			return err
		}
		_, err = tx.AppendEvent(group.Event{BotID: "bot", Type: group.EventAtMessage, GroupID: "g", OperatorID: "alice", MessageUID: m.UID, CreatedAt: time.Now()})
		return err
	}
	// A batch: the writer is held while three Updates queue.
	release := blockWriter(t, s)
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- s.Update(context.Background(), at) }()
	}
	waitQueued(s, 3)
	release()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	handed, woken, lost := feed.Take()
	if lost || woken != 3 || len(handed) != 3 {
		t.Fatalf("take: %d events, woken %d, lost %v; want 3, 3, false", len(handed), woken, lost)
	}
	for i, h := range handed {
		if h.Event.Seq != int64(i+1) || h.Message == nil || h.Message.UID != h.Event.MessageUID || h.Message.Payload.SearchableContent != "@bot hi" {
			t.Errorf("handed %d: seq %d, message %+v", i, h.Event.Seq, h.Message)
		}
	}

	// Another connection writes the file: the next take is lost.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO settings (key, value) VALUES ('feed-test', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), at); err != nil {
		t.Fatal(err)
	}
	if _, _, lost := feed.Take(); !lost {
		t.Error("after another connection's commit a take is not lost")
	}
	if err := s.Update(t.Context(), at); err != nil {
		t.Fatal(err)
	}
	if handed, woken, lost := feed.Take(); lost || len(handed) != 1 || woken != 5 {
		t.Errorf("the take after: %d events, woken %d, lost %v; want 1, 5, false", len(handed), woken, lost)
	}
}
