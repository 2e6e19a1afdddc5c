package wildfire_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/qun-chat/qun/client"
)

// Every answer of both doors carries Content-Length: Wildfire's Java admin
// SDK reads a body only when Content-Length is positive, and net/http sends
// an answer over 2 KiB chunked unless the handler sets it.
func TestEveryAnswerHasContentLength(t *testing.T) {
	e := newEnv(t, envOptions{robotRate: 40})
	r := e.robot("robota", "secret")
	members := make([]map[string]any, 100)
	for i := range members {
		members[i] = map[string]any{"member_id": fmt.Sprintf("member-%03d", i), "alias": "alias", "extra": "extra"}
	}
	var created struct {
		GroupID string `json:"group_id"`
	}
	e.ok(r, "/robot/group/create", map[string]any{"group": map[string]any{"group_info": map[string]any{"name": "big", "type": 2}, "members": members}}, &created)
	for i := range 20 {
		e.ok(r, "/robot/message/send", map[string]any{"conv": map[string]any{"type": 1, "target": created.GroupID}, "payload": map[string]any{"type": 1, "searchableContent": strings.Repeat("text ", 20) + strconv.Itoa(i)}}, nil)
	}
	gid := `"` + created.GroupID + `"`
	for _, c := range []struct {
		name   string
		client *client.Client
		method string
		path   string
		body   string
		large  bool
	}{
		{"robot member list", r, "POST", "/robot/group/member/list", `{"groupId":` + gid + `}`, true},
		{"admin member list", e.admin, "POST", "/admin/group/member/list", `{"groupId":` + gid + `}`, true},
		{"admin timeline page", e.admin, "POST", "/admin/group/messages", `{"group_id":` + gid + `,"limit":100}`, true},
		{"robot success", r, "POST", "/robot/group/get_info", `{"groupId":` + gid + `}`, false},
		{"invalid parameter", r, "POST", "/robot/group/get_info", `{}`, false},
		{"not exist", e.admin, "POST", "/admin/group/get_info", `{"groupId":"nope"}`, false},
		{"unknown path", r, "POST", "/robot/nope", `{}`, false},
		{"unknown admin path", e.admin, "POST", "/admin/nope", `{}`, false},
		{"wrong method", r, "GET", "/robot/profile", ``, false},
		{"wrong admin method", e.admin, "PUT", "/admin/group/get_info", ``, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			req, err := c.client.NewRequest(context.Background(), c.path, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Method = c.method
			_, body := e.send(nil, req) // checks Content-Length
			if c.large && len(body) < 4<<10 {
				t.Errorf("answer of %d bytes; the case needs one beyond net/http's 2 KiB buffer", len(body))
			}
		})
	}
	t.Run("auth failure", func(t *testing.T) {
		e.t = t
		req, _ := r.NewRequest(context.Background(), "/robot/profile", nil)
		req.Header.Set("sign", "bad")
		e.send(nil, req)
	})
	t.Run("over frequency", func(t *testing.T) {
		e.t = t
		for {
			req, _ := r.NewRequest(context.Background(), "/robot/profile", nil)
			if _, body := e.send(nil, req); strings.HasPrefix(string(body), `{"code":250,`) {
				return
			}
		}
	})
}
