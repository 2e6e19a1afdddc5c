package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testMessage(t *testing.T, s group.Store) {
	// Appends interleaved over two groups and two lines, some in one Update.
	type key struct {
		group string
		line  int
	}
	batches := [][]key{
		{{"g", 0}, {"g", 0}, {"g", 1}},
		{{"h", 0}},
		{{"g", 0}, {"g", 1}, {"h", 0}, {"g", 0}},
	}
	wantSeq := []int64{1, 2, 1, 1, 3, 2, 2, 4}
	var appended []group.Message
	for i, batch := range batches {
		update(t, s, func(tx group.Tx) error {
			for j, k := range batch {
				in := group.Message{GroupID: k.group, Line: k.line, Sender: "alice",
					Payload: payload(k.group), CreatedAt: at(time.Duration(10*i+j) * time.Second)}
				m, err := tx.AppendMessage(in)
				if err != nil {
					return err
				}
				in.UID, in.Seq = m.UID, m.Seq
				diff(t, "AppendMessage result", in, m)
				appended = append(appended, m)
			}
			return nil
		})
	}

	t.Run("Seq", func(t *testing.T) {
		var got []int64
		for _, m := range appended {
			got = append(got, m.Seq)
		}
		diff(t, "seqs per (group, line)", wantSeq, got)
	})
	t.Run("UID", func(t *testing.T) {
		for i := 1; i < len(appended); i++ {
			if appended[i].UID <= appended[i-1].UID {
				t.Errorf("UID %d after %d: want increasing", appended[i].UID, appended[i-1].UID)
			}
		}
	})
	t.Run("Get", func(t *testing.T) {
		for _, want := range appended {
			got := read(t, s, func(r group.Reader) (group.Message, error) { return r.Message(want.UID) })
			diff(t, "Message", want, got)
		}
	})
	t.Run("MessagesOf", func(t *testing.T) {
		// Unknown uids are left out, repeated ones come once, all in uid order.
		last := appended[len(appended)-1].UID
		uids := []int64{appended[4].UID, last + 1000, appended[0].UID, appended[4].UID, last, -1}
		want := []group.Message{appended[0], appended[4], appended[len(appended)-1]}
		diff(t, "MessagesOf", want, read(t, s, func(r group.Reader) ([]group.Message, error) { return r.MessagesOf(uids) }))
		diff(t, "MessagesOf(none)", []group.Message(nil), read(t, s, func(r group.Reader) ([]group.Message, error) { return r.MessagesOf(nil) }))
		// More uids than one statement carries.
		many := make([]int64, 0, 600)
		for i := range 600 {
			many = append(many, last+int64(i)-590)
		}
		got := read(t, s, func(r group.Reader) ([]group.Message, error) { return r.MessagesOf(many) })
		diff(t, "MessagesOf(600 uids, every appended one among them)", len(appended), len(got))
		diff(t, "MessagesOf(600 uids) in order", appended, got)
	})
	t.Run("NotExist", func(t *testing.T) {
		uid := appended[len(appended)-1].UID + 1000
		wantNotExist(t, s, "Message(unknown uid)", func(r group.Reader) (group.Message, error) { return r.Message(uid) })
	})
	t.Run("Messages", func(t *testing.T) {
		g0 := []group.Message{appended[0], appended[1], appended[4], appended[7]}
		for _, tt := range []struct {
			name  string
			group string
			line  int
			after int64
			limit int
			want  []group.Message
		}{
			{"all", "g", 0, 0, 100, g0},
			{"after", "g", 0, 2, 100, g0[2:]},
			{"limit", "g", 0, 1, 2, g0[1:3]},
			{"limit 0", "g", 0, 0, 0, nil},
			{"past the end", "g", 0, 4, 100, nil},
			{"line 1", "g", 1, 0, 100, []group.Message{appended[2], appended[5]}},
			{"other group", "h", 0, 0, 100, []group.Message{appended[3], appended[6]}},
			{"empty line", "g", 2, 0, 100, nil},
			{"unknown group", "nope", 0, 0, 100, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := read(t, s, func(r group.Reader) ([]group.Message, error) {
					return r.Messages(tt.group, tt.line, tt.after, tt.limit)
				})
				diff(t, "Messages", tt.want, got)
			})
		}
	})
	t.Run("MessagesBefore", func(t *testing.T) {
		g0 := []group.Message{appended[7], appended[4], appended[1], appended[0]} // newest first
		for _, tt := range []struct {
			name   string
			group  string
			line   int
			before int64
			limit  int
			want   []group.Message
		}{
			{"newest", "g", 0, 0, 100, g0},
			{"newest page", "g", 0, 0, 2, g0[:2]},
			{"before", "g", 0, 3, 100, g0[2:]},
			{"before the first", "g", 0, 1, 100, nil},
			{"limit 0", "g", 0, 0, 0, nil},
			{"line 1", "g", 1, 0, 100, []group.Message{appended[5], appended[2]}},
			{"unknown group", "nope", 0, 0, 100, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := read(t, s, func(r group.Reader) ([]group.Message, error) {
					return r.MessagesBefore(tt.group, tt.line, tt.before, tt.limit)
				})
				diff(t, "MessagesBefore", tt.want, got)
			})
		}
	})
}

// testNotification checks that a message appended with a built-in
// notification is kept, and read back, as the notification's Wildfire
// payload: its content type and its {g,o,n,m,ms} JSON data.
func testNotification(t *testing.T, s group.Store) {
	n := group.Notification{Type: group.NotifySetManager, GroupID: "g", Operator: "alice", Value: "1", Members: []string{"bob", "carol"}}
	var m group.Message
	update(t, s, func(tx group.Tx) (err error) {
		m, err = tx.AppendMessage(group.Message{GroupID: "g", Line: 2, Sender: "alice", Notification: &n, CreatedAt: t0})
		return err
	})
	want := group.Message{UID: m.UID, GroupID: "g", Line: 2, Seq: 1, Sender: "alice", CreatedAt: t0,
		Payload: group.Payload{Type: group.NotifySetManager, Data: []byte(`{"g":"g","o":"alice","n":"1","ms":["bob","carol"]}`)}}
	diff(t, "AppendMessage result", want, m)
	diff(t, "Message", want, read(t, s, func(r group.Reader) (group.Message, error) { return r.Message(m.UID) }))

	err := s.Update(t.Context(), func(tx group.Tx) error {
		_, err := tx.AppendMessage(group.Message{GroupID: "g", Sender: "alice", Notification: &group.Notification{Type: group.ContentText}, CreatedAt: t0})
		return err
	})
	if err == nil {
		t.Error("AppendMessage of a notification of content type 1: no error")
	}
}

// testAppendMessageCallbacks: AppendMessageCallbacks appends as AppendMessage
// does and returns what CallbackBots reads after it, the Update's own writes
// included; a rolled-back one leaves nothing.
func testAppendMessageCallbacks(t *testing.T, s group.Store) {
	put(t, s, bots, group.Bot{UserID: "r1", Callback: "http://1/"}, group.Bot{UserID: "r2"},
		group.Bot{UserID: "r3", Callback: "http://3/"}, group.Bot{UserID: "r4", Callback: "http://4/"})
	put(t, s, members, member("g", "alice", group.MemberNormal), member("g", "r1", group.MemberNormal),
		member("g", "r2", group.MemberNormal), member("g", "r4", group.MemberRemoved), member("other", "r3", group.MemberNormal))
	appendAndRead := func(tx group.Tx, in group.Message) (group.Message, []string, error) {
		m, bots, err := tx.AppendMessageCallbacks(in)
		if err != nil {
			return m, bots, err
		}
		want, err := tx.CallbackBots(in.GroupID)
		if err != nil {
			return m, bots, err
		}
		diff(t, "AppendMessageCallbacks's bots against CallbackBots after it", want, bots)
		return m, bots, nil
	}
	var first group.Message
	update(t, s, func(tx group.Tx) error {
		in := group.Message{GroupID: "g", Sender: "alice", Payload: payload("one"), CreatedAt: t0}
		m, bots, err := appendAndRead(tx, in)
		if err != nil {
			return err
		}
		in.UID, in.Seq = m.UID, m.Seq
		diff(t, "AppendMessageCallbacks message", in, m)
		diff(t, "seq", int64(1), m.Seq)
		diff(t, "callback bots", []string{"r1"}, bots)
		first = m
		return nil
	})
	diff(t, "Message after AppendMessageCallbacks", first, read(t, s, func(r group.Reader) (group.Message, error) { return r.Message(first.UID) }))

	// r4 comes back and r3 joins in the Update: both are read with the message.
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := tx.PutMembers([]group.Member{member("g", "r4", group.MemberNormal), member("g", "r3", group.MemberNormal)}); err != nil {
			return err
		}
		m, bots, err := appendAndRead(tx, group.Message{GroupID: "g", Sender: "alice", Payload: payload("two"), CreatedAt: t0})
		if err != nil {
			return err
		}
		diff(t, "seq in the rolled-back Update", int64(2), m.Seq)
		diff(t, "callback bots after the Update's joins", []string{"r1", "r3", "r4"}, bots)
		return errTest
	})
	if err != errTest {
		t.Fatalf("rolled-back Update = %v, want %v", err, errTest)
	}
	update(t, s, func(tx group.Tx) error {
		m, bots, err := appendAndRead(tx, group.Message{GroupID: "g", Line: 0, Sender: "r1", Payload: payload("three"), CreatedAt: t0})
		if err != nil {
			return err
		}
		diff(t, "seq after the rollback", int64(2), m.Seq)
		diff(t, "callback bots after the rollback", []string{"r1"}, bots)
		return nil
	})
	diff(t, "messages of g", 2, len(read(t, s, func(r group.Reader) ([]group.Message, error) { return r.Messages("g", 0, 0, 10) })))
}
