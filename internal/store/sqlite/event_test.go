package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
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
