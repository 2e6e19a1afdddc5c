package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// storedJSON is what a store holds for full: the keys may never change, or
// data already stored would no longer read back.
const storedJSON = `{"type":1,"searchableContent":"s","pushContent":"p","pushData":"d","content":"c",` +
	`"data":"AAH/","mediaType":3,"remoteMediaUrl":"https://m.example/x","persistFlag":3,` +
	`"expireDuration":60,"mentionedType":1,"mentionedTarget":["alice","bot1"],"extra":"{\"e\":1}"}`

var full = group.Payload{
	Type: 1, SearchableContent: "s", PushContent: "p", PushData: "d", Content: "c",
	Data: []byte{0, 1, 0xff}, MediaType: 3, RemoteMediaURL: "https://m.example/x", PersistFlag: 3,
	ExpireDuration: 60, MentionedType: 1, MentionedTarget: []string{"alice", "bot1"}, Extra: `{"e":1}`,
}

func TestEncodePayload(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    group.Payload
		want string
	}{
		{"full", full, storedJSON},
		{"empty fields are left out", group.Payload{Content: "hi"}, `{"content":"hi"}`},
		{"zero", group.Payload{}, `{}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodePayload(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("EncodePayload:\n got %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestDecodePayload(t *testing.T) {
	for _, tt := range []struct {
		name    string
		json    string
		want    group.Payload
		wantErr bool
	}{
		{name: "full", json: storedJSON, want: full},
		{name: "zero", json: `{}`},
		{name: "unknown keys are ignored", json: `{"content":"hi","future":true}`, want: group.Payload{Content: "hi"}},
		{name: "not JSON", json: `{`, wantErr: true},
		{name: "wrong type", json: `{"type":"text"}`, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodePayload: %v, want an error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("DecodePayload (-want +got):\n%s", d)
			}
		})
	}
}
