package postgres

import (
	"slices"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestBotMembersReadAhead: the append of a message that mentions someone
// reads the group's bot members in its own round trip, and the BotMembers
// right after it (SendMessage's next read) sends nothing; a statement sent in
// between (here a robot joining) makes BotMembers read again, and see it.
// Both alone and in a shared batch (a pipe).
func TestBotMembersReadAhead(t *testing.T) {
	dsn := testDSN(t)
	at := time.UnixMilli(1)
	member := func(user string) group.Member {
		return group.Member{GroupID: "g", UserID: user, Type: group.MemberNormal, JoinedAt: at, UpdatedAt: at}
	}
	mention := group.Message{GroupID: "g", Sender: "u", CreatedAt: at,
		Payload: group.Payload{Type: 1, Content: "@r1 hi", MentionedType: group.MentionAll}}
	for _, c := range []struct {
		name   string
		update func(s *Store, fn func(*writer) error) error
	}{
		{"alone", func(s *Store, fn func(*writer) error) error { return s.updateAlone(t.Context(), fn, 1) }},
		{"batch", func(s *Store, fn func(*writer) error) error { return s.update(t.Context(), fn) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testOpen(t, dsn, testSchema(t, dsn))
			err := s.update(t.Context(), func(w *writer) error {
				if err := w.PutGroup(group.Group{ID: "g", Name: "g", Owner: "u", CreatedAt: at, UpdatedAt: at}); err != nil {
					return err
				}
				for _, id := range []string{"r1", "r2"} {
					if err := w.PutBot(group.Bot{UserID: id, Owner: "u", Secret: "s", UpdatedAt: at}); err != nil {
						return err
					}
				}
				return w.PutMembers([]group.Member{member("u"), member("r1")})
			})
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			err = c.update(s, func(w *writer) error {
				if _, _, err := w.AppendMessageCallbacks(mention); err != nil {
					return err
				}
				sent := w.c.sent
				bots, err := w.BotMembers("g")
				if err != nil {
					return err
				}
				if w.c.sent != sent {
					t.Errorf("BotMembers after a mentioning append sent %d statements, want none", w.c.sent-sent)
				}
				if want := []string{"r1"}; !slices.Equal(bots, want) {
					t.Errorf("BotMembers read ahead = %q, want %q", bots, want)
				}

				// A robot joins between the append and the read: read again.
				if _, _, err := w.AppendMessageCallbacks(mention); err != nil {
					return err
				}
				if err := w.PutMember(member("r2")); err != nil {
					return err
				}
				bots, err = w.BotMembers("g")
				if err != nil {
					return err
				}
				if want := []string{"r1", "r2"}; !slices.Equal(bots, want) {
					t.Errorf("BotMembers after a robot joined = %q, want %q", bots, want)
				}

				// A message that mentions nobody reads nothing ahead.
				plain := mention
				plain.Payload.MentionedType = group.MentionNone
				if _, _, err := w.AppendMessageCallbacks(plain); err != nil {
					return err
				}
				sent = w.c.sent
				if _, err := w.BotMembers("g"); err != nil {
					return err
				}
				if w.c.sent == sent {
					t.Errorf("BotMembers after a plain append sent nothing: it used a read it was not given")
				}
				return nil
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
		})
	}
}
