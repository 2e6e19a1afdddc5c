package wildfire_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/wildfire"
)

func TestAdminUsersAndRobots(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.exact(t, e.admin, "/admin/user/create", `{"userId":"u1","name":"alice","displayName":"Alice","password":"pw","gender":"1"}`,
		`{"code":0,"msg":"success","result":{"userId":"u1"}}`)
	var created struct {
		UserID string `json:"userId"`
	}
	e.ok(e.admin, "/admin/user/create", map[string]any{"name": "bob"}, &created)
	if created.UserID == "" {
		t.Error("no generated userId")
	}
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/user/create", map[string]any{"userId": "u2"})
	e.exact(t, e.admin, "/admin/user/get_info", `{"userId":"u1"}`,
		`{"code":0,"msg":"success","result":{"userId":"u1","name":"alice","displayName":"Alice","portrait":"","gender":1,"mobile":"","email":"","address":"","company":"","social":"","extra":"","type":0,"updateDt":1700000000000}}`)
	e.want(wildfire.CodeNotExist, e.admin, "/admin/user/get_info", map[string]any{"userId": "nobody"})

	var robot struct {
		UserID, Secret, AppID, AppSecret string
	}
	e.ok(e.admin, "/admin/robot/create", map[string]any{"userId": "bot1", "name": "bot1", "owner": "u1", "callback": "http://cb", "robotExtra": "rx"}, &robot)
	if robot.UserID != "bot1" || len(robot.Secret) < 16 || !regexp.MustCompile(`^[1-9][0-9]{9}$`).MatchString(robot.AppID) || len(robot.AppSecret) < 16 {
		t.Errorf("robot/create = %+v", robot)
	}
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/robot/create", map[string]any{"userId": "u1", "name": "alice"}) // a normal user's id
	e.exact(t, e.admin, "/admin/user/get_robot_info", `{"robotId":"bot1"}`,
		fmt.Sprintf(`{"code":0,"msg":"success","result":{"userId":"bot1","name":"bot1","displayName":"","portrait":"","gender":0,"mobile":"","email":"","address":"","company":"","social":"","extra":"","type":1,"updateDt":1700000000000,"owner":"u1","callback":"http://cb","robotExtra":"rx","secret":"%s","appId":"%s","appSecret":"%s","intents":0,"iceBreaker":{"enabled":false}}}`,
			robot.Secret, robot.AppID, robot.AppSecret))
	e.want(wildfire.CodeNotExist, e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "u1"})
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/user/get_robot_info", map[string]any{})

	// The robot can sign with the secret it was given.
	r := e.robot("bot2", "given")
	e.want(0, r, "/robot/profile", nil)
}

func TestAdminIceBreaker(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.robot("bot1", "s")
	e.user("u1")
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/robot/ice_breaker", map[string]any{"robotId": "bot1", "enabled": true})
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/robot/ice_breaker", jsonRaw(`{"robotId":"bot1","enabled":true,"payload":{"type":105}}`))
	e.want(wildfire.CodeNotExist, e.admin, "/admin/robot/ice_breaker", jsonRaw(`{"robotId":"u1","enabled":true,"payload":{"type":1}}`))
	e.ok(e.admin, "/admin/robot/ice_breaker", jsonRaw(`{"robotId":"bot1","enabled":"true","payload":{"type":1,"content":"hello all"}}`), nil)
	var info struct {
		IceBreaker struct {
			Enabled bool `json:"enabled"`
			Payload struct {
				Type    int    `json:"type"`
				Content string `json:"content"`
			} `json:"payload"`
		} `json:"iceBreaker"`
	}
	e.ok(e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "bot1"}, &info)
	if !info.IceBreaker.Enabled || info.IceBreaker.Payload.Content != "hello all" {
		t.Errorf("iceBreaker = %+v", info.IceBreaker)
	}
	// Added to a group by a person: the ice-breaker is posted as the bot.
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"operator":"u1","group":{"group_info":{"target_id":"g1","name":"n","type":0}}}`), nil)
	e.ok(e.admin, "/admin/group/member/add", jsonRaw(`{"operator":"u1","group_id":"g1","members":[{"member_id":"bot1"}]}`), nil)
	ms := e.messages("g1", 0)
	if last := ms[len(ms)-1]; last.Sender != "bot1" || last.Payload.Content != "hello all" {
		t.Errorf("last message %+v, want the ice-breaker", last)
	}
}

// The Admin API's group calls act as the operator, or with full rights when it is empty.
func TestAdminGroupOperator(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, u := range []string{"owner", "member", "outsider"} {
		e.user(u)
	}
	// No operator: the admin creates for group_info.owner, and may create organization groups.
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"org","name":"o","type":3,"owner":"owner"},"members":[{"member_id":"member"}]}}`), nil)
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/group/create", jsonRaw(`{"group":{"group_info":{"name":"o","type":0}}}`)) // no owner at all
	// With an operator: that user creates and owns; group_info.owner is ignored.
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"operator":"owner","group":{"group_info":{"target_id":"g1","name":"n","type":2,"owner":"outsider"},"members":[{"member_id":"member"}]}}`), nil)
	if got := fmt.Sprint(e.members("g1")); got != "map[member:0 owner:2]" {
		t.Errorf("g1 members %s", got)
	}
	e.want(wildfire.CodeNotRight, e.admin, "/admin/group/create", jsonRaw(`{"operator":"owner","group":{"group_info":{"name":"n","type":3}}}`))

	// The operator's rights, not the admin's.
	e.want(wildfire.CodeNotRight, e.admin, "/admin/group/modify", map[string]any{"operator": "member", "group_id": "g1", "type": 3, "value": "1"})
	e.want(wildfire.CodeNotInGroup, e.admin, "/admin/group/modify", map[string]any{"operator": "outsider", "group_id": "g1", "type": 0, "value": "x"})
	e.want(wildfire.CodeNotRight, e.admin, "/admin/group/del", map[string]any{"operator": "member", "group_id": "g1"})
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/group/modify", map[string]any{"operator": "owner", "group_id": "g1", "type": 8, "value": "10"})
	e.ok(e.admin, "/admin/group/modify", map[string]any{"operator": "owner", "group_id": "g1", "type": 3, "value": "1"}, nil)
	// Without an operator the admin may set the admin-only fields.
	e.ok(e.admin, "/admin/group/modify", map[string]any{"group_id": "g1", "type": 8, "value": "10"}, nil)
	var info struct {
		MaxMemberCount int `json:"max_member_count"`
		Mute           int `json:"mute"`
	}
	e.ok(e.admin, "/admin/group/get_info", map[string]any{"groupId": "g1"}, &info)
	if info.MaxMemberCount != 10 || info.Mute != 1 {
		t.Errorf("g1 info %+v", info)
	}
	e.ok(e.admin, "/admin/group/member/get", map[string]any{"groupId": "org", "memberId": "member"}, nil)
	e.want(wildfire.CodeNotInGroup, e.admin, "/admin/group/member/get", map[string]any{"operator": "outsider", "groupId": "org", "memberId": "member"})

	// of_user.
	e.exact(t, e.admin, "/admin/group/of_user", `{"userId":"member"}`, `{"code":0,"msg":"success","result":{"groupIds":["g1","org"]}}`)
	e.exact(t, e.admin, "/admin/group/of_user", `{"userId":"nobody"}`, `{"code":0,"msg":"success","result":{"groupIds":[]}}`)

	// quit needs a user; the admin itself is no member.
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/group/member/quit", map[string]any{"group_id": "g1"})
	e.ok(e.admin, "/admin/group/member/quit", map[string]any{"group_id": "g1", "operator": "member"}, nil)
	e.ok(e.admin, "/admin/group/del", map[string]any{"operator": "owner", "group_id": "g1"}, nil)
	e.want(wildfire.CodeNotExist, e.admin, "/admin/group/get_info", map[string]any{"groupId": "g1"})
}

func TestAdminSendAndTimeline(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("u1")
	e.user("u2")
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"operator":"u1","group":{"group_info":{"target_id":"g1","name":"n","type":0}}}`), nil)
	var sent struct {
		MessageUID int64 `json:"messageUid"`
		Timestamp  int64 `json:"timestamp"`
	}
	for i := range 4 {
		e.ok(e.admin, "/admin/message/send", map[string]any{"sender": "u1", "conv": map[string]any{"type": 1, "target": "g1", "line": 0}, "payload": map[string]any{"type": 1, "content": fmt.Sprint("m", i)}}, &sent)
	}
	if sent.MessageUID == 0 || sent.Timestamp != testEpoch {
		t.Errorf("send result %+v", sent)
	}
	// The admin may post a notification type as a member.
	e.ok(e.admin, "/admin/message/send", jsonRaw(`{"sender":"u1","conv":{"type":1,"target":"g1","line":1},"payload":{"type":110,"base64edData":"e30="}}`), nil)
	e.want(wildfire.CodeNotInGroup, e.admin, "/admin/message/send", jsonRaw(`{"sender":"u2","conv":{"type":1,"target":"g1"},"payload":{"type":1}}`))
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/message/send", jsonRaw(`{"conv":{"type":1,"target":"g1"},"payload":{"type":1}}`))

	// Paging: 5 messages on line 0 (the 104 and four texts), 2 at a time.
	var page struct {
		Messages []timelineMessage `json:"messages"`
		Next     int64             `json:"next"`
	}
	var seen []string
	after := int64(0)
	for {
		e.ok(e.admin, "/admin/group/messages", map[string]any{"group_id": "g1", "after": after, "limit": 2}, &page)
		for _, m := range page.Messages {
			seen = append(seen, fmt.Sprintf("%d:%d:%s", m.Seq, m.Payload.Type, m.Payload.Content))
		}
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	if got := strings.Join(seen, " "); got != "1:104: 2:1:m0 3:1:m1 4:1:m2 5:1:m3" {
		t.Errorf("timeline %s", got)
	}
	e.exact(t, e.admin, "/admin/group/messages", `{"group_id":"g1","line":1}`,
		`{"code":0,"msg":"success","result":{"messages":[{"seq":1,"messageUid":6,"sender":"u1","line":1,"payload":{"type":110,"base64edData":"e30=","mediaType":0,"persistFlag":0,"expireDuration":0,"mentionedType":0},"timestamp":1700000000000}],"next":0}}`)
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/group/messages", map[string]any{"group_id": "g1", "limit": 501})
	e.want(wildfire.CodeNotExist, e.admin, "/admin/group/messages", map[string]any{"group_id": "nope"})
}

func TestAdminProactive(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.robot("bot1", "s")
	e.user("owner")
	e.user("member")
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"operator":"owner","group":{"group_info":{"target_id":"g1","name":"n","type":0},"members":[{"member_id":"member"},{"member_id":"bot1"}]}}`), nil)
	e.ok(e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "operator": "owner", "robotId": "bot1", "allow": false}, nil)
	e.ok(e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "operator": "owner", "robotId": "bot1", "allow": "false"}, nil) // no change, no error
	e.want(wildfire.CodeNotRight, e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "operator": "member", "robotId": "bot1", "allow": true})
	e.want(wildfire.CodeInvalidParameter, e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "operator": "owner", "robotId": "bot1"})
	e.want(wildfire.CodeNotExist, e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "operator": "owner", "robotId": "member", "allow": true})
	e.ok(e.admin, "/admin/group/robot/proactive", map[string]any{"group_id": "g1", "robotId": "bot1", "allow": true}, nil)
}
