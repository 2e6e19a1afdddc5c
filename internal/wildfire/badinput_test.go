package wildfire_test

import (
	"context"
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

const invalidBody = `{"code":251,"msg":"Invalid parameter"}`

// deepBody nests arrays n levels deep inside an object.
func deepBody(n int) string {
	return `{"group_id":"g1","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

// oversizedBody is a valid body just over DefaultMaxBody.
func oversizedBody() string {
	return `{"group_id":"g1","pad":"` + strings.Repeat("x", 1<<20) + `"}`
}

// malformedBodies are refused with 251 by every route that reads a body.
var malformedBodies = []string{
	"", "   \n", "null", "[]", `"g1"`, "42", "true", "{", "{}}", `{"group_id":"g1"`, `{"group_id":"g1",}`,
	`{"group_id":NaN}`, "{\"group_id\":\"g1\"}\xff", `{'group_id':'g1'}`, deepBody(100_000),
}

// badInput is a body one route refuses with 251.
type badInput struct {
	path, body string
}

// badInputs are wrong types and missing fields, each against group g1
// (owner robota, member u1), which none of them may change.
var badInputs = []badInput{
	{"/robot/group/create", `{"group":"g"}`},
	{"/robot/group/create", `{"group":{}}`},
	{"/robot/group/create", `{"group":{"members":[]}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","type":"two"}}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":["x"]}}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","super_group":"yes"}}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"u2"},{"member_id":["a"]}]}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"u2"},{"member_id":""}]}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"},"members":[{"member_id":"` + strings.Repeat("u", 65) + `"}]}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"to_lines":[256]}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"to_lines":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x"}},"notify_message":{"type":1,"base64edData":"!!!"}}`},
	{"/robot/group/create", `{"group":{"group_info":{"name":"x","target_id":"` + strings.Repeat("g", 65) + `"}}}`},
	{"/robot/group/del", `{}`},
	{"/robot/group/del", `{"group_id":["g1"]}`},
	{"/robot/group/del", `{"group_id":"g1","to_lines":"0"}`},
	{"/robot/group/del", `{"group_id":"g1","to_lines":[-1]}`},
	{"/robot/group/del", `{"group_id":"g1","notify_message":"bye"}`},
	{"/robot/group/del", `{"group_id":"g1","notify_message":{"type":1,"base64edData":"%%%"}}`},
	{"/robot/group/transfer", `{"group_id":"g1"}`},
	{"/robot/group/transfer", `{"group_id":"g1","new_owner":{}}`},
	{"/robot/group/modify", `{"group_id":"g1","value":"x"}`},
	{"/robot/group/modify", `{"group_id":"g1","type":0}`},
	{"/robot/group/modify", `{"group_id":"g1","type":"abc","value":"x"}`},
	{"/robot/group/modify", `{"group_id":"g1","type":1.5,"value":"x"}`},
	{"/robot/group/modify", `{"group_id":"g1","type":99999999999,"value":"x"}`},
	{"/robot/group/modify", `{"group_id":"g1","type":true,"value":"x"}`},
	{"/robot/group/modify", `{"group_id":"g1","type":0,"value":["x"]}`},
	{"/robot/group/modify", `{"group_id":"g1","type":4,"value":"3"}`},
	{"/robot/group/member/list", `{}`},
	{"/robot/group/member/list", `{"groupId":null}`},
	{"/robot/group/get_info", `{"groupId":{"id":"g1"}}`},
	{"/robot/group/member/get", `{"groupId":"g1"}`},
	{"/robot/group/member/add", `{"group_id":"g1"}`},
	{"/robot/group/member/add", `{"group_id":"g1","members":"u2"}`},
	{"/robot/group/member/add", `{"group_id":"g1","members":["u2"]}`},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2"},{"member_id":{"x":1}}]}`},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2"},{"member_id":""}]}`},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2","type":"owner"}]}`},
	{"/robot/group/member/del", `{"group_id":"g1","members":[{"member_id":"u1"}]}`},
	{"/robot/group/member/del", `{"group_id":"g1","members":["u1",""]}`},
	{"/robot/group/member/del", `{"group_id":"g1","members":[]}`},
	{"/robot/group/member/quit", `{}`},
	{"/robot/group/member/set_alias", `{"group_id":"g1","memberId":"u1","alias":{"a":1}}`},
	{"/robot/group/member/set_extra", `{"group_id":"g1","memberId":"u1","extra":[1]}`},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"]}`},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"],"is_manager":"maybe"}`},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"],"is_manager":1}`},
	{"/robot/group/manager/set", `{"group_id":"g1","members":"u1","is_manager":true}`},
	{"/robot/group/manager/mute", `{"group_id":"g1","members":["u1"]}`},
	{"/robot/group/manager/allow", `{"group_id":"g1","members":["u1"],"is_allow":null}`},
	{"/robot/message/send", `{"conv":"g1","payload":{"type":1}}`},
	{"/robot/message/send", `{"conv":{"target":"g1"},"payload":{"type":1}}`},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":"text"}}`},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"mentionedTarget":"u1"}}`},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"base64edData":"a"}}`},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":0}}`},
	{"/robot/user_info", `{"userId":{}}`},
	{"/robot/user_info", `{}`},
	{"/robot/update_profile", `{"intValue":"x","strValue":"y"}`},
	{"/robot/update_profile", `{"strValue":"y"}`},
	{"/robot/set_callback", `{"url":["http://x"]}`},
	{"/robot/set_callback", `{}`},
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
	check := func(t *testing.T, path, body string) {
		t.Helper()
		status, got := e.raw(r, path, body)
		if status != http.StatusOK || got != invalidBody {
			t.Errorf("%s %.80q: HTTP %d %s, want 200 %s", path, body, status, got, invalidBody)
		}
	}
	for i, c := range badInputs {
		t.Run(fmt.Sprintf("%s#%d", c.path, i), func(t *testing.T) { check(t, c.path, c.body) })
	}
	for _, path := range robotPaths {
		t.Run(path+" malformed", func(t *testing.T) {
			if noBodyPaths[path] {
				return
			}
			for _, body := range malformedBodies {
				check(t, path, body)
			}
		})
		t.Run(path+" oversized", func(t *testing.T) { check(t, path, oversizedBody()) })
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
