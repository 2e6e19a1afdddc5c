package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/qun-chat/qun/internal/group"
)

// errTest is the error of an Update that fails on purpose.
var errTest = errors.New("deliberate failure")

// TestBatchEvents: the events of a transaction's Updates are inserted at
// its commit. Each Update reads the events the Updates before it in the
// batch appended, a failed one's events and seqs are gone for the ones
// after it, and the log holds what the others appended, in seq order.
func TestBatchEvents(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "qun.db"))
	defer s.Close()
	now := time.UnixMilli(1_700_000_000_000).UTC()
	ev := func(bot, op string) group.Event {
		return group.Event{BotID: bot, Type: group.EventAddRobot, GroupID: "g", OperatorID: op, CreatedAt: now}
	}
	ops := func(evs []group.Event) (got []string) {
		for _, e := range evs {
			got = append(got, e.OperatorID+"@"+string(rune('0'+e.Seq)))
		}
		return got
	}
	release := blockWriter(t, s)
	var seen [3][]string
	fns := []func(tx group.Tx) error{
		func(tx group.Tx) error {
			for _, op := range []string{"a1", "a2"} {
				if _, err := tx.AppendEvent(ev("bot1", op)); err != nil {
					return err
				}
			}
			return nil
		},
		func(tx group.Tx) error {
			if _, err := tx.AppendEvent(ev("bot1", "b1")); err != nil {
				return err
			}
			evs, err := tx.Events("bot1", 0, 10)
			seen[1] = ops(evs)
			return errors.Join(err, errTest)
		},
		func(tx group.Tx) error {
			for _, e := range []group.Event{ev("bot1", "c1"), ev("bot2", "c2")} {
				if _, err := tx.AppendEvent(e); err != nil {
					return err
				}
			}
			evs, err := tx.Events("bot1", 0, 10)
			seen[2] = ops(evs)
			return err
		},
	}
	errs := make([]chan error, len(fns))
	for i, fn := range fns {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- s.Update(context.Background(), fn) }()
		waitQueued(s, i+1) // in this order
	}
	commits := s.commits.Load()
	release()
	for i, want := range []error{nil, errTest, nil} {
		if err := <-errs[i]; !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("Update %d: %v, want %v", i, err, want)
		}
	}
	if got := s.commits.Load() - commits; got != 2 {
		t.Fatalf("%d commits, want 2 (the blocking Update's, the batch's)", got)
	}
	if want := []string{"a1@1", "a2@2", "b1@3"}; !cmp.Equal(seen[1], want) {
		t.Errorf("the failing Update read %v, want %v", seen[1], want)
	}
	if want := []string{"a1@1", "a2@2", "c1@3"}; !cmp.Equal(seen[2], want) {
		t.Errorf("the Update after it read %v, want %v", seen[2], want)
	}
	for bot, want := range map[string][]string{"bot1": {"a1@1", "a2@2", "c1@3"}, "bot2": {"c2@1"}} {
		evs, err := viewOne(t.Context(), s, func(r *reader) ([]group.Event, error) { return r.Events(bot, 0, 10) })
		if err != nil {
			t.Fatal(err)
		}
		if got := ops(evs); !cmp.Equal(got, want) {
			t.Errorf("log of %s: %v, want %v", bot, got, want)
		}
	}
}

// TestEventValues: eventValues binds what eventColumns would, column for
// column, so that the two cannot drift apart.
func TestEventValues(t *testing.T) {
	e := group.Event{BotID: "b", Seq: 7, Type: group.EventAtMessage, GroupID: "g", OperatorID: "o", MessageUID: 42,
		CreatedAt: time.UnixMilli(1_700_000_000_123), Data: "d"}
	got := eventValues(nil, &e)
	ptrs := eventColumns(&e).ptrs()
	if len(got) != len(ptrs) {
		t.Fatalf("eventValues: %d values, eventColumns: %d", len(got), len(ptrs))
	}
	for i, p := range ptrs {
		want, err := driver.DefaultParameterConverter.ConvertValue(p)
		if v, ok := p.(driver.Valuer); ok {
			want, err = v.Value()
		}
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != want {
			t.Errorf("column %s: eventValues %#v, eventColumns %#v", eventCols[i].name, got[i], want)
		}
	}
}

// TestBatchEventsInsertFails: an event insert that fails at the commit
// (here a trigger refuses one event; in the field a full disk) leaves the
// answers, the log and the feeds agreeing: an Update answered nil has its
// writes and its events committed and handed, one answered with an error has
// none, nothing uncommitted is handed or woken, and no seq is skipped.
func TestBatchEventsInsertFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.operator_id = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned'); END`); err != nil {
		t.Fatal(err)
	}
	// The trigger was another connection's commit: let the writer see it
	// before the feed is made.
	if err := s.Update(t.Context(), func(group.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	feed := s.FeedEvents("bot1")
	defer feed.Close()
	wake := s.WaitEvents("bot1")

	ops := []string{"ok1", "poison", "ok2"}
	release := blockWriter(t, s)
	errs := make([]chan error, len(ops))
	for i, op := range ops {
		errs[i] = make(chan error, 1)
		go func() {
			errs[i] <- s.Update(context.Background(), func(tx group.Tx) error {
				if err := tx.PutUser(group.User{ID: "u-" + op}); err != nil {
					return err
				}
				_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", OperatorID: op,
					CreatedAt: time.UnixMilli(1_700_000_000_000)})
				return err
			})
		}()
		waitQueued(s, i+1)
	}
	release()
	var committed []string
	for i, op := range ops {
		if err := <-errs[i]; err == nil {
			committed = append(committed, op)
		} else if op != "poison" {
			t.Logf("Update %s: %v", op, err)
		}
	}
	if slices.Contains(committed, "poison") {
		t.Fatal("the refused event's Update was answered nil")
	}

	var users, seqRows int
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE id LIKE 'u-%'`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM event_seqs`).Scan(&seqRows); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT operator_id, seq FROM events WHERE bot_id = 'bot1' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for rows.Next() {
		var op string
		var seq int64
		if err := rows.Scan(&op, &seq); err != nil {
			t.Fatal(err)
		}
		if seq != int64(len(logged)+1) {
			t.Errorf("event %s has seq %d, want %d", op, seq, len(logged)+1)
		}
		logged = append(logged, op)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(logged, committed) || users != len(committed) || seqRows != min(len(committed), 1) {
		t.Fatalf("answered nil: %v; in the log: %v, %d users, %d event_seqs rows", committed, logged, users, seqRows)
	}
	handed, woken, lost := feed.Take()
	var got []string
	for _, c := range handed {
		got = append(got, c.Event.OperatorID)
	}
	if lost || !slices.Equal(got, committed) || woken != int64(len(committed)) {
		t.Fatalf("feed: handed %v, woken %d, lost %v; want %v", got, woken, lost, committed)
	}
	select {
	case <-wake:
		if len(committed) == 0 {
			t.Error("woken by a batch that committed no event")
		}
	default:
		if len(committed) > 0 {
			t.Error("not woken by a batch that committed events")
		}
	}

	// The next event takes the seq after the committed ones.
	var e group.Event
	if err := s.Update(t.Context(), func(tx group.Tx) error {
		e, err = tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", OperatorID: "next", CreatedAt: time.UnixMilli(1_700_000_000_000)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if e.Seq != int64(len(committed)+1) {
		t.Errorf("next event: seq %d, want %d", e.Seq, len(committed)+1)
	}
}
