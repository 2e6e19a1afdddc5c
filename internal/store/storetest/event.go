package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testEvent(t *testing.T, s group.Store) {
	in := []group.Event{
		{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", OperatorID: "alice", CreatedAt: t0},
		{BotID: "bot1", Type: group.EventAtMessage, GroupID: "g", OperatorID: "bob", MessageUID: 42, CreatedAt: at(time.Second)},
		{BotID: "bot2", Type: group.EventAddRobot, GroupID: "g", OperatorID: "alice", CreatedAt: at(time.Second)},
		{BotID: "bot1", Type: group.EventMsgReject, GroupID: "h", OperatorID: "carol", CreatedAt: at(2 * time.Second)},
	}
	wantSeq := []int64{1, 2, 1, 3}
	var appended []group.Event
	for _, batch := range [][]group.Event{in[:2], in[2:]} {
		update(t, s, func(tx group.Tx) error {
			for _, e := range batch {
				got, err := tx.AppendEvent(e)
				if err != nil {
					return err
				}
				appended = append(appended, got)
			}
			return nil
		})
	}

	// A store may number the events at the commit (AppendEvent's Seq is then
	// 0): the seqs are those of the appends' order, per bot.
	for i := range appended {
		if appended[i].Seq != 0 {
			diff(t, fmt.Sprintf("AppendEvent %d: seq", i), wantSeq[i], appended[i].Seq)
		}
		appended[i] = in[i]
		appended[i].Seq = wantSeq[i]
	}
	t.Run("Seq", func(t *testing.T) {
		for _, bot := range []string{"bot1", "bot2"} {
			var want []group.Event
			for _, e := range appended {
				if e.BotID == bot {
					want = append(want, e)
				}
			}
			diff(t, "events of "+bot, want, read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events(bot, 0, 10) }))
		}
	})
	t.Run("Get", func(t *testing.T) {
		for _, want := range appended {
			got := read(t, s, func(r group.Reader) (group.Event, error) { return r.Event(want.BotID, want.Seq) })
			diff(t, "Event", want, got)
		}
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "Event(bot1, 99)", func(r group.Reader) (group.Event, error) { return r.Event("bot1", 99) })
		wantNotExist(t, s, "Event(nobody, 1)", func(r group.Reader) (group.Event, error) { return r.Event("nobody", 1) })
	})
	t.Run("Events", func(t *testing.T) {
		bot1 := []group.Event{appended[0], appended[1], appended[3]}
		for _, tt := range []struct {
			name  string
			bot   string
			after int64
			limit int
			want  []group.Event
		}{
			{"all", "bot1", 0, 100, bot1},
			{"after", "bot1", 1, 100, bot1[1:]},
			{"limit", "bot1", 0, 2, bot1[:2]},
			{"limit 0", "bot1", 0, 0, nil},
			{"past the end", "bot1", 3, 100, nil},
			{"other bot", "bot2", 0, 100, []group.Event{appended[2]}},
			{"unknown bot", "nobody", 0, 100, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events(tt.bot, tt.after, tt.limit) })
				diff(t, "Events", tt.want, got)
			})
		}
	})
	t.Run("LastEventSeq", func(t *testing.T) {
		for _, tt := range []struct {
			bot  string
			want int64
		}{{"bot1", 3}, {"bot2", 1}, {"nobody", 0}} {
			got := read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq(tt.bot) })
			diff(t, "LastEventSeq("+tt.bot+")", tt.want, got)
		}
	})
	t.Run("InUpdate", func(t *testing.T) {
		// An Update reads the events it appended itself, after the log's,
		// however the store keeps them until its commit.
		more := []group.Event{
			{BotID: "bot1", Type: group.EventDelRobot, GroupID: "g", OperatorID: "dave", CreatedAt: at(3 * time.Second)},
			{BotID: "bot1", Type: group.EventAtMessage, GroupID: "h", OperatorID: "erin", MessageUID: 43, Data: "x", CreatedAt: at(4 * time.Second)},
		}
		more[0].Seq, more[1].Seq = 4, 5
		bot1 := []group.Event{appended[0], appended[1], appended[3], more[0], more[1]}
		update(t, s, func(tx group.Tx) error {
			for _, e := range more {
				if _, err := tx.AppendEvent(e); err != nil {
					return err
				}
			}
			for _, tt := range []struct {
				name  string
				bot   string
				after int64
				limit int
				want  []group.Event
			}{
				{"all", "bot1", 0, 100, bot1},
				{"across", "bot1", 2, 2, bot1[2:4]},
				{"appended only", "bot1", 3, 100, bot1[3:]},
				{"limit", "bot1", 0, 3, bot1[:3]},
				{"limit 0", "bot1", 0, 0, nil},
				{"past the end", "bot1", 5, 100, nil},
				{"other bot", "bot2", 0, 100, []group.Event{appended[2]}},
			} {
				got, err := tx.Events(tt.bot, tt.after, tt.limit)
				if err != nil {
					return err
				}
				diff(t, "Events in the Update: "+tt.name, tt.want, got)
			}
			got, err := tx.Event("bot1", 5)
			if err != nil {
				return err
			}
			diff(t, "Event(bot1, 5) in the Update", more[1], got)
			if _, err := tx.Event("bot1", 6); !group.IsNotExist(err) {
				t.Errorf("Event(bot1, 6) in the Update: %v, want ENotExist", err)
			}
			last, err := tx.LastEventSeq("bot1")
			diff(t, "LastEventSeq(bot1) in the Update", int64(5), last)
			return err
		})
		diff(t, "events of bot1 after the commit", bot1,
			read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("bot1", 0, 100) }))

		// A failed Update's events are gone, and so are their seqs.
		err := s.Update(t.Context(), func(tx group.Tx) error {
			if _, err := tx.AppendEvent(more[0]); err != nil {
				return err
			}
			return errTest
		})
		if !errors.Is(err, errTest) {
			t.Fatalf("failing Update: %v", err)
		}
		update(t, s, func(tx group.Tx) error {
			_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: at(5 * time.Second)})
			return err
		})
		var seqs []int64
		for _, e := range read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("bot1", 3, 100) }) {
			seqs = append(seqs, e.Seq)
		}
		diff(t, "seqs of bot1 after a failed Update and one more", []int64{4, 5, 6}, seqs)
	})
}
