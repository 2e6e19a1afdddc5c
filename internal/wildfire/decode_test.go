package wildfire_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/wildfire"
)

// fillBody returns prefix, then elem repeated with commas, then suffix, as
// long as it stays within max bytes, and how many elems it holds.
func fillBody(prefix, elem, suffix string, max int) (string, int) {
	var b strings.Builder
	b.WriteString(prefix)
	n := 0
	for ; b.Len()+1+len(elem)+len(suffix) <= max; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	b.WriteString(suffix)
	return b.String(), n
}

// A body of hundreds of thousands of tiny list elements, in any list field
// of any call, is refused with 251 before its elements are decoded: one such
// call allocates a few times the body's size, not tens of times (with 8
// concurrent callers qun's RSS went from 18 MB to 838 MB). The 251 names the
// list, its length and its bound.
func TestHostileListsAreRefusedCheaply(t *testing.T) {
	e, r := badInputEnv(t)
	const max = int(wildfire.DefaultMaxBody)
	perCall, lines := group.DefaultMaxMembersPerCall, group.DefaultMaxLines
	cases := []struct {
		name, path           string
		prefix, elem, suffix string
		admin                bool
		list                 string
		bound                int
	}{
		{"member/add members", "/robot/group/member/add", `{"group_id":"g1","members":[`, `{}`, `]}`, false, "members", perCall},
		{"create members", "/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[`, `{}`, `]}}`, false, "group.members", perCall},
		{"member/del ids", "/robot/group/member/del", `{"group_id":"g1","members":[`, `""`, `]}`, false, "members", perCall},
		{"manager/mute ids", "/robot/group/manager/mute", `{"group_id":"g1","is_manager":true,"members":[`, `0`, `]}`, false, "members", perCall},
		{"to_lines", "/robot/group/member/set_alias", `{"group_id":"g1","alias":"a","to_lines":[`, `0`, `]}`, false, "to_lines", lines},
		{"message mentionedTarget", "/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x","mentionedType":1,"mentionedTarget":[`, `""`, `]}}`, false, "payload.mentionedTarget", perCall},
		{"notify_message mentionedTarget", "/robot/group/modify", `{"group_id":"g1","type":0,"value":"x","notify_message":{"type":1,"mentionedTarget":[`, `0`, `]}}`, false, "notify_message.mentionedTarget", perCall},
		{"toUsers", "/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x"},"toUsers":[`, `0`, `]}`, false, "toUsers", perCall},
		{"admin member/add members", "/admin/group/member/add", `{"group_id":"g1","members":[`, `{}`, `]}`, true, "members", perCall},
		{"admin ice_breaker mentionedTarget", "/admin/robot/ice_breaker", `{"robotId":"robota","enabled":true,"payload":{"type":1,"mentionedTarget":[`, `""`, `]}}`, true, "payload.mentionedTarget", perCall},
	}
	before := e.fullSnapshot(r)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, h := r, e.robotH
			if c.admin {
				client, h = e.admin, e.adminH
			}
			body, n := fillBody(c.prefix, c.elem, c.suffix, max)
			req, err := client.NewRequest(context.Background(), c.path, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			allocated := allocatedBy(func() { h.ServeHTTP(w, req) })
			want := fmt.Sprintf(`{"code":251,"msg":"Invalid parameter: %s: %d entries, at most %d"}`, c.list, n, c.bound)
			if w.Code != http.StatusOK || w.Body.String() != want {
				t.Errorf("HTTP %d %s, want 200 %s", w.Code, w.Body.String(), want)
			}
			// The body is read (once, or twice while it grows) and the list kept
			// undecoded; a decoded list would cost tens of megabytes.
			t.Logf("a %d KiB body: %d KiB allocated", len(body)>>10, allocated>>10)
			if limit := uint64(4 * len(body)); allocated > limit {
				t.Errorf("one call of %d KiB allocated %d KiB, more than %d KiB", len(body)>>10, allocated>>10, limit>>10)
			}
		})
	}
	if after := e.fullSnapshot(r); after != before {
		t.Errorf("a refused call changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

// allocatedBy returns how many bytes the process allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	fn()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// The bound of each list is the domain's: the configured members per call
// for members, ids and mentions, group.DefaultMaxLines for to_lines. A list
// at the bound is decoded; one element more is 251.
func TestListBoundsAreTheDomains(t *testing.T) {
	const perCall = 3
	e := newEnv(t, envOptions{perCall: perCall})
	r := e.robot("robota", "secret")
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n","type":2}}}`), nil)
	members := func(n int, elem string) string {
		var ms []string
		for i := range n {
			ms = append(ms, fmt.Sprintf(elem, i))
		}
		return strings.Join(ms, ",")
	}
	lines := func(n int) string { return strings.TrimSuffix(strings.Repeat("0,", n), ",") }
	for _, c := range []struct {
		name, path, atBound, overBound string
	}{
		{"members", "/robot/group/member/add",
			`{"group_id":"g1","members":[` + members(perCall, `{"member_id":"a%d"}`) + `]}`,
			`{"group_id":"g1","members":[` + members(perCall+1, `{"member_id":"b%d"}`) + `]}`},
		{"ids", "/robot/group/manager/mute",
			`{"group_id":"g1","is_manager":true,"members":[` + members(perCall, `"a%d"`) + `]}`,
			`{"group_id":"g1","is_manager":true,"members":[` + members(perCall+1, `"a%d"`) + `]}`},
		{"mentionedTarget", "/robot/message/send",
			`{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x","mentionedType":1,"mentionedTarget":[` + members(perCall, `"a%d"`) + `]}}`,
			`{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x","mentionedType":1,"mentionedTarget":[` + members(perCall+1, `"a%d"`) + `]}}`},
		{"toUsers", "/robot/message/send",
			`{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x"},"toUsers":[` + members(perCall, `"a%d"`) + `]}`,
			`{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"x"},"toUsers":[` + members(perCall+1, `"a%d"`) + `]}`},
		{"to_lines", "/robot/group/modify",
			`{"group_id":"g1","type":0,"value":"x","to_lines":[` + lines(group.DefaultMaxLines) + `]}`,
			`{"group_id":"g1","type":0,"value":"x","to_lines":[` + lines(group.DefaultMaxLines+1) + `]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.want(0, r, c.path, jsonRaw(c.atBound))
			e.want(wildfire.CodeInvalidParameter, r, c.path, jsonRaw(c.overBound))
		})
	}
}
