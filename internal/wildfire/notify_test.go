package wildfire_test

import (
	"encoding/base64"
	"fmt"
	"testing"
)

// notes summarises a line's timeline as "type:sender" entries.
func (e *env) notes(gid string, line int) string {
	e.t.Helper()
	var out []string
	for _, m := range e.messages(gid, line) {
		out = append(out, fmt.Sprintf("%d:%s", m.Payload.Type, m.Sender))
	}
	return fmt.Sprint(out)
}

func TestNotifications(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "s")
	e.user("u1")
	e.user("u2")

	// to_lines [0,1]: one built-in notification per line, none elsewhere.
	e.ok(r, "/robot/group/create", jsonRaw(`{"to_lines":[0,1],"group":{"group_info":{"target_id":"g1","name":"n","type":0},"members":[{"member_id":"u1"},{"member_id":"u2"}]}}`), nil)
	for line := range 2 {
		ms := e.messages("g1", line)
		if len(ms) != 1 || ms[0].Payload.Type != 104 || ms[0].Sender != "robota" || ms[0].Line != line {
			t.Fatalf("line %d: %+v, want one 104 from robota", line, ms)
		}
		// Wildfire's GroupNotificationBinaryContent, byte for byte.
		if got, want := ms[0].Payload.Base64edData, base64.StdEncoding.EncodeToString([]byte(`{"g":"g1","o":"robota","n":"n","m":""}`)); got != want {
			t.Errorf("line %d data %s, want %s", line, got, want)
		}
	}
	if got := e.notes("g1", 2); got != "[]" {
		t.Errorf("line 2: %s", got)
	}

	// A robot's custom notify_message (type > 0) replaces the built-in one:
	// the deliberate fix of Wildfire's config-key typo, which answers 248 here.
	e.ok(r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":0,"value":"renamed","to_lines":["1"],"notify_message":{"type":1,"content":"custom"}}`), nil)
	ms := e.messages("g1", 1)
	if last := ms[len(ms)-1]; last.Payload.Type != 1 || last.Payload.Content != "custom" || last.Sender != "robota" {
		t.Errorf("custom notification %+v", last)
	}
	if got := e.notes("g1", 0); got != "[104:robota]" {
		t.Errorf("line 0 after a line-1 modify: %s", got)
	}
	// type 0 is no override: the built-in 110 goes out.
	e.ok(r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":0,"value":"again","notify_message":{"type":0,"content":"ignored"}}`), nil)
	ms = e.messages("g1", 0)
	if d := notificationData(t, ms[len(ms)-1]); fmt.Sprint(d) != "map[g:g1 m: n:again o:robota]" {
		t.Errorf("modify notification %v", d)
	}
	// Repeated lines notify once.
	e.ok(r, "/robot/group/member/set_alias", jsonRaw(`{"group_id":"g1","memberId":"u1","alias":"a","to_lines":[2,2]}`), nil)
	if got := e.notes("g1", 2); got != "[111:robota]" {
		t.Errorf("line 2: %s", got)
	}

	// Kick: 106 lists the kicked, then they are gone.
	e.ok(r, "/robot/group/member/del", map[string]any{"group_id": "g1", "members": []string{"u1"}}, nil)
	ms = e.messages("g1", 0)
	if d := notificationData(t, ms[len(ms)-1]); ms[len(ms)-1].Payload.Type != 106 || fmt.Sprint(d) != "map[g:g1 ms:[u1] o:robota]" {
		t.Errorf("kick notification %d %v", ms[len(ms)-1].Payload.Type, d)
	}
	if _, ok := e.members("g1")["u1"]; ok {
		t.Error("u1 still a member")
	}

	// Dismiss: 108 on each line, and the timeline outlives the group.
	e.ok(r, "/robot/group/del", jsonRaw(`{"group_id":"g1","to_lines":[0,2]}`), nil)
	if got := e.notes("g1", 0); got != "[104:robota 110:robota 106:robota 108:robota]" {
		t.Errorf("line 0 after dismiss: %s", got)
	}
	if got := e.notes("g1", 2); got != "[111:robota 108:robota]" {
		t.Errorf("line 2 after dismiss: %s", got)
	}

	// member/add with a custom notify_message (Wildfire's one unchecked path).
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g2","name":"n","type":0}}}`), nil)
	e.ok(r, "/robot/group/member/add", jsonRaw(`{"group_id":"g2","members":[{"member_id":"u1"}],"notify_message":{"type":1200,"content":"welcome"}}`), nil)
	if got := e.notes("g2", 0); got != "[104:robota 1200:robota]" {
		t.Errorf("g2: %s", got)
	}
	// The 105 lists every requested member, the skipped ones too (as Wildfire).
	e.ok(r, "/robot/group/member/add", jsonRaw(`{"group_id":"g2","members":[{"member_id":"u1"},{"member_id":"u2"}]}`), nil)
	ms = e.messages("g2", 0)
	if d := notificationData(t, ms[len(ms)-1]); fmt.Sprint(d) != "map[g:g2 ms:[u1 u2] o:robota]" {
		t.Errorf("add notification %v", d)
	}
}
