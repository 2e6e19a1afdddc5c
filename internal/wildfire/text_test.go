package wildfire_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/qun-chat/qun/client"
)

// A NUL in any id, name or text of a call is 251 and changes nothing, on
// every store alike (JSON cannot carry invalid UTF-8: the decoder turns it
// into U+FFFD, which is valid text).
func TestNULRefused(t *testing.T) {
	e, r := badInputEnv(t)
	before := e.fullSnapshot(r)
	robot := []struct{ path, body string }{
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g\u0000","name":"n"}}}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2","name":"n\u0000"}}}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2","extra":"\u0000"}}}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2"},"members":[{"member_id":"u\u0000"}]}}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2"},"members":[{"member_id":"u2","alias":"a\u0000"}]}}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2"},"members":[{"member_id":"u2"}]},"member_extra":"\u0000"}`},
		{"/robot/group/create", `{"group":{"group_info":{"target_id":"g2"}},"notify_message":{"type":1,"searchableContent":"\u0000"}}`},
		{"/robot/group/get_info", `{"groupId":"g1\u0000"}`},
		{"/robot/group/del", `{"group_id":"g1\u0000"}`},
		{"/robot/group/transfer", `{"group_id":"g1","new_owner":"u\u0000"}`},
		{"/robot/group/modify", `{"group_id":"g1","type":0,"value":"x\u0000"}`},
		{"/robot/group/member/list", `{"groupId":"g1\u0000"}`},
		{"/robot/group/member/get", `{"groupId":"g1","memberId":"u1\u0000"}`},
		{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u\u0000"}]}`},
		{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u2","extra":"\u0000"}]}`},
		{"/robot/group/member/del", `{"group_id":"g1","members":["u1\u0000"]}`},
		{"/robot/group/member/set_alias", `{"group_id":"g1","memberId":"u1","alias":"\u0000"}`},
		{"/robot/group/member/set_extra", `{"group_id":"g1","memberId":"u1","extra":"\u0000"}`},
		{"/robot/group/manager/set", `{"group_id":"g1","members":["u1\u0000"],"is_manager":true}`},
		{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"searchableContent":"hi\u0000"}}`},
		{"/robot/message/send", `{"conv":{"type":1,"target":"g1\u0000"},"payload":{"type":1,"searchableContent":"hi"}}`},
		{"/robot/message/send", `{"conv":{"type":1,"target":"g1"},"payload":{"type":1,"mentionedType":1,"mentionedTarget":["u\u0000"]}}`},
		{"/robot/update_profile", `{"intValue":0,"strValue":"\u0000"}`},
		{"/robot/set_callback", `{"url":"http://cb\u0000"}`},
	}
	admin := []struct{ path, body string }{
		{"/admin/user/create", `{"userId":"u\u0000","name":"n"}`},
		{"/admin/user/create", `{"userId":"u2","name":"n\u0000"}`},
		{"/admin/robot/create", `{"userId":"r2","name":"r","secret":"s\u0000"}`},
		{"/admin/group/member/add", `{"operator":"u1\u0000","group_id":"g1","members":[{"member_id":"u2"}]}`},
		{"/admin/group/modify", `{"operator":"u\u0000","group_id":"g1","type":0,"value":"x"}`},
	}
	// check wants 251 with the text rule as its reason.
	check := func(c *client.Client, path, body string) {
		t.Helper()
		status, got := e.raw(c, path, body)
		var res struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(got), &res); err != nil || status != http.StatusOK || res.Code != 251 ||
			!strings.Contains(res.Msg, "NUL character or invalid UTF-8") {
			t.Errorf("%s %s: HTTP %d %s, want 200 and 251 for the text", path, body, status, got)
		}
	}
	for _, c := range robot {
		check(r, c.path, c.body)
	}
	for _, c := range admin {
		check(e.admin, c.path, c.body)
	}
	if after := e.fullSnapshot(r); after != before {
		t.Errorf("a refused text changed the state:\nbefore %s\nafter  %s", before, after)
	}
	e.want(253, e.admin, "/admin/user/get_info", map[string]any{"userId": "u2"})
	e.want(253, e.admin, "/admin/user/get_info", map[string]any{"userId": "r2"})
}
