package postgres

import (
	"reflect"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestEventBurst: EventBurst reads what a View reads for the gateway — the
// bot's events after a seq, up to a limit, in order; the message of each
// at-event (none for the other events, nor for an at-event whose message
// is gone); the bot's user — in one round trip. A bot without a user reads
// the zero User, and a bot id no row can hold reads nothing.
func TestEventBurst(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_123).UTC()
	var uids []int64
	err := s.update(ctx, func(w *writer) error {
		if err := w.PutUser(group.User{ID: "b", Name: "bot", DisplayName: "Bot", UpdatedAt: at}); err != nil {
			return err
		}
		for i, content := range []string{"@Bot one", "@Bot two"} {
			m, _, err := w.AppendMessageCallbacks(group.Message{GroupID: "g", Sender: "u", CreatedAt: at.Add(time.Duration(i) * time.Millisecond),
				Payload: group.Payload{Type: 1, Content: content, MentionedType: group.MentionAll}})
			if err != nil {
				return err
			}
			uids = append(uids, m.UID)
		}
		for _, e := range []group.Event{
			{Type: group.EventAtMessage, MessageUID: uids[0]},
			{Type: group.EventAddRobot},
			{Type: group.EventAtMessage, MessageUID: uids[1]},
			{Type: group.EventAtMessage, MessageUID: uids[1] + 1000}, // no such message
			{Type: group.EventRobotMessage, MessageUID: uids[0]},     // not an at-event
		} {
			e.BotID, e.GroupID, e.OperatorID, e.CreatedAt = "b", "g", "u", at
			if _, err := w.AppendEvent(e); err != nil {
				return err
			}
		}
		_, err := w.AppendEvent(group.Event{BotID: "other", Type: group.EventAddRobot, GroupID: "g", OperatorID: "u", CreatedAt: at})
		return err
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}

	// What a View reads, as the gateway read it before.
	var wantEvents []group.Event
	var wantUser group.User
	msgs := map[int64]group.Message{}
	err = s.View(ctx, func(r group.Reader) error {
		var err error
		if wantEvents, err = r.Events("b", 0, 100); err != nil {
			return err
		}
		if wantUser, err = r.User("b"); err != nil {
			return err
		}
		ms, err := r.MessagesOf(uids)
		for _, m := range ms {
			msgs[m.UID] = m
		}
		return err
	})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	if len(wantEvents) != 5 {
		t.Fatalf("view read %d events, want 5", len(wantEvents))
	}

	for _, c := range []struct {
		after int64
		limit int
	}{{0, 100}, {0, 2}, {1, 3}, {5, 100}, {0, 0}} {
		evs, user, err := s.EventBurst(ctx, "b", c.after, c.limit)
		if err != nil {
			t.Fatalf("EventBurst(after %d, limit %d): %v", c.after, c.limit, err)
		}
		var want []group.CommittedEvent
		for _, e := range wantEvents {
			if e.Seq <= c.after || len(want) >= c.limit {
				continue
			}
			ce := group.CommittedEvent{Event: e}
			if m, ok := msgs[e.MessageUID]; ok && e.Type == group.EventAtMessage {
				ce.Message = &m
			}
			want = append(want, ce)
		}
		if !reflect.DeepEqual(evs, want) {
			t.Errorf("EventBurst(after %d, limit %d) =\n%+v\nwant\n%+v", c.after, c.limit, evs, want)
		}
		if c.limit > 0 && !reflect.DeepEqual(user, wantUser) {
			t.Errorf("EventBurst's user = %+v, want %+v", user, wantUser)
		}
	}

	evs, user, err := s.EventBurst(ctx, "other", 0, 100)
	if err != nil || len(evs) != 1 || evs[0].Event.BotID != "other" || !reflect.DeepEqual(user, group.User{}) {
		t.Errorf("EventBurst of a bot without a user = %+v, %+v, %v; want its one event and the zero User", evs, user, err)
	}
	evs, user, err = s.EventBurst(ctx, "b\x00", 0, 100)
	if err != nil || len(evs) != 0 || !reflect.DeepEqual(user, group.User{}) {
		t.Errorf("EventBurst of a bot id no row can hold = %+v, %+v, %v; want nothing", evs, user, err)
	}
}
