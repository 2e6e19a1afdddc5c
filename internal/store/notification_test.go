package store

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// notificationRows are built-in notifications and the data their payload
// held when the domain still built it, byte for byte: timelines keep it as
// stored, and a node of another version reads the same rows.
var notificationRows = []struct {
	name string
	n    group.Notification
	data string
}{
	{"create", group.Notification{Type: group.NotifyCreateGroup, GroupID: "g1", Operator: "alice", Value: "Team <&> 群"},
		`{"g":"g1","o":"alice","n":"Team \u003c\u0026\u003e 群","m":""}`},
	{"create by the server", group.Notification{Type: group.NotifyCreateGroup, GroupID: "g1"},
		`{"g":"g1","o":"","n":"","m":""}`},
	{"add", group.Notification{Type: group.NotifyAddMember, GroupID: "g1", Operator: "alice", Members: []string{"bob", "bot1"}},
		`{"g":"g1","o":"alice","ms":["bob","bot1"]}`},
	{"add of nobody", group.Notification{Type: group.NotifyAddMember, GroupID: "g1", Operator: "alice"},
		`{"g":"g1","o":"alice"}`},
	{"kick", group.Notification{Type: group.NotifyKickMember, GroupID: "g1", Operator: "alice", Members: []string{"bob"}},
		`{"g":"g1","o":"alice","ms":["bob"]}`},
	{"quit", group.Notification{Type: group.NotifyQuitGroup, GroupID: "g1", Operator: "bob"},
		`{"g":"g1","o":"bob","m":""}`},
	{"dismiss", group.Notification{Type: group.NotifyDismissGroup, GroupID: "g1", Operator: "alice"},
		`{"g":"g1","o":"alice","m":""}`},
	{"transfer", group.Notification{Type: group.NotifyTransferOwner, GroupID: "g1", Operator: "alice", Member: "bob"},
		`{"g":"g1","o":"alice","m":"bob"}`},
	{"name", group.Notification{Type: group.NotifyChangeName, GroupID: "g1", Operator: "alice", Value: "new \"name\"\n"},
		`{"g":"g1","o":"alice","n":"new \"name\"\n","m":""}`},
	{"name of invalid UTF-8", group.Notification{Type: group.NotifyChangeName, GroupID: "g1", Operator: "alice", Value: "bad \xff utf8"},
		`{"g":"g1","o":"alice","n":"bad \ufffd utf8","m":""}`},
	{"portrait", group.Notification{Type: group.NotifyChangePortrait, GroupID: "g1", Operator: "alice", Value: "p"},
		`{"g":"g1","o":"alice","n":"p","m":""}`},
	{"mute", group.Notification{Type: group.NotifyChangeMute, GroupID: "g1", Operator: "alice", Value: "1"},
		`{"g":"g1","o":"alice","n":"1","m":""}`},
	{"join type", group.Notification{Type: group.NotifyChangeJoinType, GroupID: "g1", Operator: "alice", Value: "2"},
		`{"g":"g1","o":"alice","n":"2","m":""}`},
	{"private chat", group.Notification{Type: group.NotifyChangePrivateChat, GroupID: "g1", Operator: "alice", Value: "1"},
		`{"g":"g1","o":"alice","n":"1","m":""}`},
	{"searchable", group.Notification{Type: group.NotifyChangeSearchable, GroupID: "g1", Operator: "alice", Value: "0"},
		`{"g":"g1","o":"alice","n":"0","m":""}`},
	{"extra", group.Notification{Type: group.NotifyChangeExtra, GroupID: "g1", Operator: "alice", Value: "x"},
		`{"g":"g1","o":"alice","n":"x","m":""}`},
	{"alias", group.Notification{Type: group.NotifyMemberAlias, GroupID: "g1", Operator: "alice", Value: "Bobby", Member: "bob"},
		`{"g":"g1","o":"alice","n":"Bobby","m":"bob"}`},
	{"member extra", group.Notification{Type: group.NotifyMemberExtra, GroupID: "g1", Value: `{"x":1}`, Member: "bob"},
		`{"g":"g1","o":"","n":"{\"x\":1}","m":"bob"}`},
	{"manager", group.Notification{Type: group.NotifySetManager, GroupID: "g1", Operator: "alice", Value: "1", Members: []string{"bob", "carol"}},
		`{"g":"g1","o":"alice","n":"1","ms":["bob","carol"]}`},
	{"mute member", group.Notification{Type: group.NotifyMuteMember, GroupID: "g1", Operator: "alice", Value: "0", Members: []string{"bob"}},
		`{"g":"g1","o":"alice","n":"0","ms":["bob"]}`},
	{"allow member", group.Notification{Type: group.NotifyAllowMember, GroupID: "g1", Operator: "alice", Value: "1", Members: []string{"bob"}},
		`{"g":"g1","o":"alice","n":"1","ms":["bob"]}`},
	// Fields a type does not carry are left out, whatever they hold.
	{"quit ignores value and members", group.Notification{Type: group.NotifyQuitGroup, GroupID: "g1", Operator: "bob", Value: "v", Members: []string{"x"}},
		`{"g":"g1","o":"bob","m":""}`},
}

// TestNotificationStoredForm pins the stored payload of every built-in
// notification: its data, and the whole stored JSON, as the domain wrote
// them before the wire form moved here.
func TestNotificationStoredForm(t *testing.T) {
	for _, tt := range notificationRows {
		t.Run(tt.name, func(t *testing.T) {
			p, err := MessagePayload(group.Message{Notification: &tt.n, Payload: group.Payload{Content: "ignored"}})
			if err != nil {
				t.Fatal(err)
			}
			if string(p.Data) != tt.data {
				t.Errorf("data:\n got %s\nwant %s", p.Data, tt.data)
			}
			stored, err := EncodePayload(p)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`{"type":%d,"data":%q}`, tt.n.Type, base64.StdEncoding.EncodeToString([]byte(tt.data)))
			if string(stored) != want {
				t.Errorf("stored payload:\n got %s\nwant %s", stored, want)
			}
		})
	}
	// Two rows spelled out in full, so that the test does not only agree with itself.
	for _, tt := range []struct {
		n    group.Notification
		want string
	}{
		{notificationRows[0].n, `{"type":104,"data":"eyJnIjoiZzEiLCJvIjoiYWxpY2UiLCJuIjoiVGVhbSBcdTAwM2NcdTAwMjZcdTAwM2Ug576kIiwibSI6IiJ9"}`},
		{notificationRows[18].n, `{"type":117,"data":"eyJnIjoiZzEiLCJvIjoiYWxpY2UiLCJuIjoiMSIsIm1zIjpbImJvYiIsImNhcm9sIl19"}`},
	} {
		p, err := NotificationPayload(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := EncodePayload(p); err != nil || string(stored) != tt.want {
			t.Errorf("stored payload of type %d:\n got %s (%v)\nwant %s", tt.n.Type, stored, err, tt.want)
		}
	}
}

// A message without a Notification keeps its own payload; an unknown
// notification type is an error, never a payload of made-up shape.
func TestMessagePayload(t *testing.T) {
	p, err := MessagePayload(group.Message{Payload: full})
	if err != nil || p.Content != full.Content || string(p.Data) != string(full.Data) {
		t.Errorf("MessagePayload of a chat message: %+v, %v; want its own payload", p, err)
	}
	if _, err := NotificationPayload(group.Notification{Type: group.ContentText}); err == nil {
		t.Error("NotificationPayload of content type 1: no error")
	}
}
