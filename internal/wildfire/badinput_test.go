package wildfire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/qun-chat/qun/client"
)

// robotPaths are every Robot API route.
var robotPaths = []string{
	"/robot/group/create", "/robot/group/del", "/robot/group/get_info", "/robot/group/transfer",
	"/robot/group/modify", "/robot/group/member/list", "/robot/group/member/get", "/robot/group/member/add",
	"/robot/group/member/del", "/robot/group/member/quit", "/robot/group/member/set_alias",
	"/robot/group/member/set_extra", "/robot/group/manager/set", "/robot/group/manager/mute",
	"/robot/group/manager/allow", "/robot/message/send", "/robot/profile", "/robot/user_info",
	"/robot/update_profile", "/robot/set_callback", "/robot/get_callback", "/robot/delete_callback",
}

// noBodyPaths read no body at all.
var noBodyPaths = map[string]bool{"/robot/profile": true, "/robot/get_callback": true, "/robot/delete_callback": true}

// invalidBody is the answer to a bad input: 251 and its reason.
func invalidBody(reason string) string {
	b, _ := json.Marshal(reason)
	return `{"code":251,"msg":"Invalid parameter: ` + string(b[1:len(b)-1]) + `"}`
}

// deepBody nests arrays n levels deep inside an object.
func deepBody(n int) string {
	return `{"group_id":"g1","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

// oversizedBody is a valid body just over DefaultMaxBody.
func oversizedBody() string {
	return `{"group_id":"g1","pad":"` + strings.Repeat("x", 1<<20) + `"}`
}

// malformedBodies are refused with 251 by every route that reads a body,
// for the same reason.
var malformedBodies = []struct{ body, reason string }{
	{"", "the body is empty"},
	{"   \n", "the body is empty"},
	{"null", "the body is not a JSON object"},
	{"[]", "the body is not a JSON object"},
	{`"g1"`, "the body is not a JSON object"},
	{"42", "the body is not a JSON object"},
	{"true", "the body is not a JSON object"},
	{"{", "the body is not valid JSON (at byte 1)"},
	{"{}}", "the body is not valid JSON (at byte 3)"},
	{`{"group_id":"g1"`, "the body is not valid JSON (at byte 16)"},
	{`{"group_id":"g1",}`, "the body is not valid JSON (at byte 18)"},
	{`{"group_id":NaN}`, "the body is not valid JSON (at byte 13)"},
	{"{\"group_id\":\"g1\"}\xff", "the body is not valid JSON (at byte 18)"},
	{`{'group_id':'g1'}`, "the body is not valid JSON (at byte 2)"},
	{deepBody(100_000), "the body nests deeper than 32 levels"},
}

// badInput is a body one route refuses with 251, and the reason it gives.
type badInput struct {
	path, body, reason string
}

// badInputs are wrong types and missing fields, each against group g1
// (owner robota, member u1), which none of them may change.
var badInputs = []badInput{
	{"/robot/group/create", `{"group":"g"}`, "group must be an object, not a string"},
	{"/robot/group/create", `{"group":{}}`, "group.group_info is missing"},
	{"/robot/group/create", `{"group":{"members":[]}}`, "group.group_info is missing"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","type":"two"}}}`, "group.group_info.type must be a 32-bit integer, not \"two\""},
	{"/robot/group/create", `{"group":{"group_info":{"name":["x"]}}}`, "group.group_info.name must be a string, not an array"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","super_group":"yes"}}}`, "group.group_info.super_group must be true or false, not \"yes\""},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"u2"},{"member_id":["a"]}]}}`, "group.members[].member_id must be a string, not an array"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"u2"},{"member_id":""}]}}`, "member_id is empty"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"` + strings.Repeat("u", 65) + `"}]}}`, "member_id is longer than 64 bytes"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"to_lines":[256]}`, "line 256 is out of 0..255"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"to_lines":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}`, "to_lines: 17 entries, at most 16"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"notify_message":{"type":1,"base64edData":"!!!"}}`, "notify_message.base64edData is not base64"},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","target_id":"` + strings.Repeat("g", 65) + `"}}}`, "group id is longer than 64 bytes"},
	{"/robot/group/del", `{}`, "group_id (or groupId) is missing"},
	{"/robot/group/del", `{"group_id":["g1"]}`, "group_id must be a string, not an array"},
	{"/robot/group/del", `{"group_id":"g1","to_lines":"0"}`, "to_lines must be an array, not \"0\""},
	{"/robot/group/del", `{"group_id":"g1","to_lines":[-1]}`, "line -1 is out of 0..255"},
	{"/robot/group/del", `{"group_id":"g1","notify_message":"bye"}`, "notify_message must be an object, not a string"},
	{"/robot/group/del", `{"group_id":"g1","notify_message":{"type":1,"base64edData":"%%%"}}`, "notify_message.base64edData is not base64"},
	{"/robot/group/transfer", `{"group_id":"g1"}`, "new_owner is empty"},
	{"/robot/group/transfer", `{"group_id":"g1","new_owner":{}}`, "new_owner must be a string, not an object"},
	{"/robot/group/modify", `{"group_id":"g1","value":"x"}`, "type is missing"},
	{"/robot/group/modify", `{"group_id":"g1","type":0}`, "value is missing"},
	{"/robot/group/modify", `{"group_id":"g1","type":"abc","value":"x"}`, "type must be a 32-bit integer, not \"abc\""},
	{"/robot/group/modify", `{"group_id":"g1","type":1.5,"value":"x"}`, "type must be a 32-bit integer, not 1.5"},
	{"/robot/group/modify", `{"group_id":"g1","type":99999999999,"value":"x"}`, "type must be a 32-bit integer, not 99999999999"},
	{"/robot/group/modify", `{"group_id":"g1","type":true,"value":"x"}`, "type must be a 32-bit integer, not a boolean"},
	{"/robot/group/modify", `{"group_id":"g1","type":0,"value":["x"]}`, "value must be a string, not an array"},
	{"/robot/group/modify", `{"group_id":"g1","type":4,"value":"3"}`, "value \"3\" is not an integer in 0..2"},
	{"/robot/group/member/list", `{}`, "group_id (or groupId) is missing"},
	{"/robot/group/member/list", `{"groupId":null}`, "group_id (or groupId) is missing"},
	{"/robot/group/get_info", `{"groupId":{"id":"g1"}}`, "groupId must be a string, not an object"},
	{"/robot/group/member/get", `{"groupId":"g1"}`, "memberId is missing"},
	{"/robot/group/member/add", `{"group_id":"g1"}`, "members is empty"},
	{"/robot/group/member/add", `{"group_id":"g1","members":"u2"}`, "members must be an array, not \"u2\""},
	{"/robot/group/member/add", `{"group_id":"g1","members":["u2"]}`, "members[] must be an object, not a string"},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2"},{"member_id":{"x":1}}]}`, "members[].member_id must be a string, not an object"},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2"},{"member_id":""}]}`, "member id is empty"},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2","type":"owner"}]}`, "members[].type must be a 32-bit integer, not \"owner\""},
	{"/robot/group/member/del", `{"group_id":"g1","members":[{"member_id":"u1"}]}`, "members[] must be a string, not an object"},
	{"/robot/group/member/del", `{"group_id":"g1","members":["u1",""]}`, "member id is empty"},
	{"/robot/group/member/del", `{"group_id":"g1","members":[]}`, "members is empty"},
	{"/robot/group/member/quit", `{}`, "group_id (or groupId) is missing"},
	{"/robot/group/member/set_alias", `{"group_id":"g1","memberId":"u1","alias":{"a":1}}`, "alias must be a string, not an object"},
	{"/robot/group/member/set_extra", `{"group_id":"g1","memberId":"u1","extra":[1]}`, "extra must be a string, not an array"},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"]}`, "is_manager is missing"},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"],"is_manager":"maybe"}`, "is_manager must be true or false, not \"maybe\""},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"],"is_manager":1}`, "is_manager must be true or false, not 1"},
	{"/robot/group/manager/set", `{"group_id":"g1","members":"u1","is_manager":true}`, "members must be an array, not \"u1\""},
	{"/robot/group/manager/mute", `{"group_id":"g1","members":["u1"]}`, "is_mute (or is_manager) is missing"},
	{"/robot/group/manager/allow", `{"group_id":"g1","members":["u1"],"is_allow":null}`, "is_allow (or is_manager) is missing"},
	{"/robot/message/send", `{"conv":"g1","payload":{"type":1}}`, "conv must be an object, not a string"},
	{"/robot/message/send", `{"conv":{"target":"g1"},"payload":{"type":1}}`, "conv.type is missing"},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":"text"}}`, "payload.type must be a 32-bit integer, not \"text\""},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"mentionedTarget":"u1"}}`, "payload.mentionedTarget must be an array, not \"u1\""},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"base64edData":"a"}}`, "payload.base64edData is not base64"},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":0}}`, "payload type 0 is not a content type"},
	{"/robot/user_info", `{"userId":{}}`, "userId must be a string, not an object"},
	{"/robot/user_info", `{}`, "userId, name and mobile are all empty"},
	{"/robot/update_profile", `{"intValue":"x","strValue":"y"}`, "intValue must be a 32-bit integer, not \"x\""},
	{"/robot/update_profile", `{"strValue":"y"}`, "intValue (or type, first) is missing"},
	{"/robot/set_callback", `{"url":["http://x"]}`, "url must be a string, not an array"},
	{"/robot/set_callback", `{}`, "url is missing"},
}

// badInputEnv is the state every bad-input case runs against.
func badInputEnv(t testing.TB) (*env, *client.Client) {
	t.Helper()
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	e.user("u1")
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n","type":0},"members":[{"member_id":"u1"}]}}`), nil)
	e.ok(r, "/robot/set_callback", map[string]any{"url": "http://cb"}, nil)
	return e, r
}

// fullSnapshot is everything a bad input could have changed.
func (e *env) fullSnapshot(r *client.Client) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(e.snapshot("g1"))
	for _, c := range []struct{ path, body string }{
		{"/admin/group/of_user", `{"userId":"robota"}`},
		{"/admin/group/of_user", `{"userId":"u2"}`},
		{"/admin/user/get_robot_info", `{"robotId":"robota"}`},
	} {
		_, body := e.raw(e.admin, c.path, c.body)
		b.WriteString(body)
	}
	return b.String()
}

func TestBadInput(t *testing.T) {
	e, r := badInputEnv(t)
	before := e.fullSnapshot(r)
	check := func(t *testing.T, path, body, reason string) {
		t.Helper()
		status, got := e.raw(r, path, body)
		if want := invalidBody(reason); status != http.StatusOK || got != want {
			t.Errorf("%s %.80q: HTTP %d %s, want 200 %s", path, body, status, got, want)
		}
	}
	for i, c := range badInputs {
		t.Run(fmt.Sprintf("%s#%d", c.path, i), func(t *testing.T) { check(t, c.path, c.body, c.reason) })
	}
	for _, path := range robotPaths {
		t.Run(path+" malformed", func(t *testing.T) {
			if noBodyPaths[path] {
				return
			}
			for _, c := range malformedBodies {
				check(t, path, c.body, c.reason)
			}
		})
		t.Run(path+" oversized", func(t *testing.T) {
			check(t, path, oversizedBody(), "the body is larger than 1048576 bytes")
		})
	}
	if after := e.fullSnapshot(r); after != before {
		t.Errorf("bad input changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

// Lenient bodies gson accepts are accepted too.
func TestLenientInput(t *testing.T) {
	e, r := badInputEnv(t)
	e.ok(r, "/robot/group/member/set_alias", jsonRaw(`{"group_id":"g1","memberId":"u1","alias":123,"to_lines":null,"notify_message":null,"unknown":{"deep":[1,[2,{"x":null}]]}}`), nil)
	e.ok(r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":"3","value":1,"to_lines":["0",1.0]}`), nil)
	e.ok(r, "/robot/group/member/add", jsonRaw(`{"group_id":"g1","members":[{"member_id":42,"type":"0","createDt":"1700000000000","name":"ignored"}],"member_extra":"mx"}`), nil)
	var m struct {
		Alias string `json:"alias"`
		Extra string `json:"extra"`
	}
	e.ok(r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "u1"}, &m)
	if m.Alias != "123" {
		t.Errorf("alias %q", m.Alias)
	}
	e.ok(r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "42"}, &m)
	if m.Extra != "mx" {
		t.Errorf("member_extra not applied: %q", m.Extra)
	}
	var info struct {
		Mute int `json:"mute"`
	}
	e.ok(r, "/robot/group/get_info", map[string]any{"groupId": "g1"}, &info)
	if info.Mute != 1 {
		t.Errorf("mute %d", info.Mute)
	}
	// A boolean where a string is expected is its text, as gson reads it:
	// "true" is no 0/1 switch value.
	e.want(251, r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":3,"value":true}`))
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestUnknownPathAndMethod(t *testing.T) {
	_, r := badInputEnv(t)
	const notImplemented = `{"code":254,"msg":"not implement"}`
	cases := []struct {
		method, path string
		signed       bool
		status       int
	}{
		{"POST", "/robot/group/nope", true, http.StatusNotFound},
		{"POST", "/robot/group/nope", false, http.StatusNotFound},
		{"POST", "/admin/group/create", true, http.StatusNotFound},
		{"POST", "/robot/profile/", true, http.StatusNotFound},
		{"POST", "//robot/profile", true, http.StatusNotFound},
		{"POST", "/robot//profile", true, http.StatusNotFound},
		{"POST", "/robot/./profile", true, http.StatusNotFound},
		{"POST", "/robot/x/../profile", true, http.StatusNotFound},
		{"POST", "/robot/group%2Fget_info", true, http.StatusNotFound},
		{"GET", "/robot/group%2fmember%2Fadd", true, http.StatusNotFound},
		{"GET", "/robot/group/member/add", true, http.StatusMethodNotAllowed},
		{"GET", "/robot/profile", false, http.StatusMethodNotAllowed},
		{"PUT", "/robot/group/create", true, http.StatusMethodNotAllowed},
		{"HEAD", "/robot/profile", true, http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := r.NewRequest(context.Background(), c.path, []byte(`{"group_id":"g1"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Method = c.method
			if !c.signed {
				req.Header.Del("sign")
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body := string(b)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.method != "HEAD" && body != notImplemented {
				t.Errorf("body %s", body)
			}
			if c.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
