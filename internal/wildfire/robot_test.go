package wildfire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/wildfire"
)

// seedCreateBody is the create example of the Wildfire docs (seed 002),
// exactly as its curl sends it: type 3, an owner and an operator that a
// robot's call ignores, and a member type given as a string.
const seedCreateBody = `{                       
    "operator":"a",       
    "group":{                 
        "group_info":{              
		       "name": "老王的朋友们",     
		       "owner": "laowang",      
	         "type": 3                  
	      },                              
	      "members": [                  
          {                              
		         "member_id": "memberId1",  
		         "name": "老王的朋友们",       
		         "type": "0"        
	        }                            
        ]                            
      }                             
    }`

func TestSeedCreateExample(t *testing.T) {
	// The docs' headers are signed for 2019-05-20 with the default robot's secret.
	e := newEnv(t, envOptions{epoch: 1558350862502})
	r := e.robot("robota", "123456")
	req, err := http.NewRequest(http.MethodPost, e.robotSrv.URL+"/robot/group/create", strings.NewReader(seedCreateBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("nonce", "76616")
	req.Header.Set("timestamp", "1558350862502")
	req.Header.Set("sign", "b98f9b0717f59febccf1440067a7f50d9b31bdde")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("rid", "robota")
	// The docs answer code 0 with the new group's id: a robot creates the
	// organization group (type 3) and owns it (Wildfire community: 248).
	_, body := e.do(r, req)
	var res struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Result struct {
			GroupID string `json:"group_id"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Code != 0 || res.Result.GroupID == "" ||
		body != fmt.Sprintf(`{"code":0,"msg":"success","result":{"group_id":%q}}`, res.Result.GroupID) {
		t.Fatalf("seed create: %s, want code 0 and a group_id", body)
	}
	gid := res.Result.GroupID
	var info struct {
		Name  string `json:"name"`
		Owner string `json:"owner"`
		Type  int    `json:"type"`
	}
	e.ok(r, "/robot/group/get_info", map[string]any{"groupId": gid}, &info)
	if info.Owner != "robota" || info.Name != "老王的朋友们" || info.Type != 3 {
		t.Errorf("get_info = %+v, want owner robota, type 3", info)
	}
	if got, want := fmt.Sprint(e.members(gid)), "map[memberId1:0 robota:2]"; got != want {
		t.Errorf("members %s, want %s (laowang ignored)", got, want)
	}

	// Its members can do nothing (through the Admin API's operator, as an app
	// server acts for them); the robot owner manages it; so does the server.
	e.user("memberId1")
	e.want(248, e.admin, "/admin/group/modify", map[string]any{"operator": "memberId1", "group_id": gid, "type": 0, "value": "mine"})
	e.want(248, e.admin, "/admin/group/member/add", map[string]any{"operator": "memberId1", "group_id": gid, "members": []any{map[string]any{"member_id": "x"}}})
	e.want(248, e.admin, "/admin/group/member/quit", map[string]any{"operator": "memberId1", "group_id": gid})
	e.ok(r, "/robot/group/modify", map[string]any{"group_id": gid, "type": 0, "value": "renamed"}, nil)
	e.ok(r, "/robot/group/member/add", map[string]any{"group_id": gid, "members": []any{map[string]any{"member_id": "m2"}}}, nil)
	e.ok(r, "/robot/group/manager/set", map[string]any{"group_id": gid, "members": []string{"m2"}, "is_manager": true}, nil)
	e.ok(r, "/robot/group/member/del", map[string]any{"group_id": gid, "members": []string{"memberId1"}}, nil)
	e.ok(e.admin, "/admin/group/member/add", map[string]any{"group_id": gid, "members": []any{map[string]any{"member_id": "m3"}}}, nil)
	if got, want := fmt.Sprint(e.members(gid)), "map[m2:1 m3:0 robota:2]"; got != want {
		t.Errorf("members %s, want %s", got, want)
	}
	// A manager of an organization group still does nothing.
	e.user("m2")
	e.want(248, e.admin, "/admin/group/member/del", map[string]any{"operator": "m2", "group_id": gid, "members": []string{"m3"}})
	e.ok(r, "/robot/group/del", map[string]any{"group_id": gid}, nil)
	e.want(253, r, "/robot/group/get_info", map[string]any{"groupId": gid})
}

// jsonRaw is a body already in JSON; the client marshals it as is.
type jsonRaw string

func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }

// exact posts body as c and requires the exact response body.
func (e *env) exact(t *testing.T, c interface {
	NewRequest(context.Context, string, []byte) (*http.Request, error)
}, path, body, want string) {
	t.Helper()
	req, err := c.NewRequest(context.Background(), path, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	_, got := e.do(e.admin, req)
	if got != want {
		t.Errorf("%s %s\n got %s\nwant %s", path, body, got, want)
	}
}

func TestRobotGroupRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	for _, u := range []string{"u1", "u2", "u3"} {
		e.user(u)
	}

	// Create, then the reference's verbatim get_info and member list.
	e.exact(t, r, "/robot/group/create", `{"group":{"group_info":{"target_id":"g1","name":"n","type":2}}}`,
		`{"code":0,"msg":"success","result":{"group_id":"g1"}}`)
	e.exact(t, r, "/robot/group/get_info", `{"groupId":"g1"}`,
		`{"code":0,"msg":"success","result":{"target_id":"g1","name":"n","portrait":"","owner":"robota","type":2,"extra":"","mute":0,"join_type":0,"private_chat":0,"searchable":0,"max_member_count":0,"history_message":0,"super_group":false}}`)
	e.exact(t, r, "/robot/group/member/list", `{"groupId":"g1"}`,
		`{"code":0,"msg":"success","result":{"members":[{"member_id":"robota","alias":"","type":2,"extra":"","createDt":1700000000000}]}}`)
	e.want(wildfire.CodeGroupExists, r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"again","type":2}}}`))
	e.want(wildfire.CodeInvalidData, r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"name":"x","type":4}}}`))
	e.want(wildfire.CodeNotExist, r, "/robot/group/get_info", map[string]any{"groupId": "nope"})

	// Members: types are forced to normal; alias and extra are kept.
	e.clock.Add(time.Second)
	e.exact(t, r, "/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u1","alias":"al1","type":"1","extra":"x"},{"member_id":"u2"}]}`,
		`{"code":0,"msg":"success"}`)
	e.exact(t, r, "/robot/group/member/get", `{"groupId":"g1","memberId":"u1"}`,
		`{"code":0,"msg":"success","result":{"member_id":"u1","alias":"al1","type":0,"extra":"x","createDt":1700000001000}}`)
	e.want(wildfire.CodeAlreadyInGroup, r, "/robot/group/member/add", jsonRaw(`{"group_id":"g1","members":[{"member_id":"u1"}]}`))
	e.want(wildfire.CodeNotExist, r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "u3"})
	e.want(wildfire.CodeNotExist, r, "/robot/group/member/add", jsonRaw(`{"group_id":"nope","members":[{"member_id":"u1"}]}`))

	e.ok(r, "/robot/group/member/set_alias", map[string]any{"group_id": "g1", "memberId": "u2", "alias": "two"}, nil)
	e.ok(r, "/robot/group/member/set_extra", map[string]any{"group_id": "g1", "memberId": "u2", "extra": "e2"}, nil)
	e.ok(r, "/robot/group/member/set_alias", map[string]any{"group_id": "g1", "alias": "me"}, nil) // own alias
	var m struct {
		Alias string `json:"alias"`
		Extra string `json:"extra"`
	}
	e.ok(r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "u2"}, &m)
	if m.Alias != "two" || m.Extra != "e2" {
		t.Errorf("u2 = %+v", m)
	}
	e.ok(r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "robota"}, &m)
	if m.Alias != "me" {
		t.Errorf("robota's alias %q", m.Alias)
	}
	e.want(wildfire.CodeNotInGroup, r, "/robot/group/member/set_alias", map[string]any{"group_id": "g1", "memberId": "u3", "alias": "x"})

	// Roles: is_manager everywhere (Java/JS SDK), is_mute/is_allow (Python SDK), booleans as strings.
	roles := []struct {
		path, body string
		u2         int
	}{
		{"/robot/group/manager/set", `{"group_id":"g1","members":["u2"],"is_manager":true}`, 1},
		{"/robot/group/manager/set", `{"group_id":"g1","members":["u2"],"is_manager":"false"}`, 0},
		{"/robot/group/manager/mute", `{"group_id":"g1","members":["u2"],"is_mute":true}`, 3},
		{"/robot/group/manager/mute", `{"group_id":"g1","members":["u2"],"is_manager":false}`, 0},
		{"/robot/group/manager/allow", `{"group_id":"g1","members":["u2"],"is_manager":"TRUE"}`, 5},
		{"/robot/group/manager/allow", `{"group_id":"g1","members":["u2"],"is_allow":false}`, 0},
	}
	for _, c := range roles {
		e.exact(t, r, c.path, c.body, `{"code":0,"msg":"success"}`)
		if got := e.members("g1")["u2"]; got != c.u2 {
			t.Errorf("%s %s: u2 type %d, want %d", c.path, c.body, got, c.u2)
		}
	}
	e.want(wildfire.CodeNotRight, r, "/robot/group/manager/set", jsonRaw(`{"group_id":"g1","members":["robota"],"is_manager":true}`))

	// Modify: ints and values in any JSON form; admin-only types are 251 for a robot.
	e.ok(r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":"0","value":"new name"}`), nil)
	e.ok(r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":3,"value":1}`), nil)
	var info struct {
		Name  string `json:"name"`
		Mute  int    `json:"mute"`
		Owner string `json:"owner"`
	}
	e.ok(r, "/robot/group/get_info", map[string]any{"groupId": "g1"}, &info)
	if info.Name != "new name" || info.Mute != 1 {
		t.Errorf("after modify: %+v", info)
	}
	e.want(wildfire.CodeInvalidParameter, r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":7,"value":"1"}`))
	e.want(wildfire.CodeInvalidParameter, r, "/robot/group/modify", jsonRaw(`{"group_id":"g1","type":3,"value":"yes"}`))

	// Transfer: the robot becomes a normal member and loses its rights.
	e.ok(r, "/robot/group/transfer", map[string]any{"group_id": "g1", "new_owner": "u1"}, nil)
	e.ok(r, "/robot/group/get_info", map[string]any{"groupId": "g1"}, &info)
	if ms := e.members("g1"); info.Owner != "u1" || ms["u1"] != 2 || ms["robota"] != 0 {
		t.Errorf("after transfer: owner %s, members %v", info.Owner, ms)
	}
	e.want(wildfire.CodeNotRight, r, "/robot/group/transfer", map[string]any{"group_id": "g1", "new_owner": "robota"})
	e.want(wildfire.CodeNotRight, r, "/robot/group/del", map[string]any{"group_id": "g1"})
	e.want(wildfire.CodeNotRight, r, "/robot/group/member/del", map[string]any{"group_id": "g1", "members": []string{"u2"}})

	// Quit: then the robot sees an empty member list and may not read members.
	e.ok(r, "/robot/group/member/quit", map[string]any{"group_id": "g1"}, nil)
	e.exact(t, r, "/robot/group/member/list", `{"groupId":"g1"}`, `{"code":0,"msg":"success","result":{"members":[]}}`)
	e.want(wildfire.CodeNotInGroup, r, "/robot/group/member/get", map[string]any{"groupId": "g1", "memberId": "u1"})
	e.want(0, r, "/robot/group/get_info", map[string]any{"groupId": "g1"}) // no membership check, as Wildfire

	// An owned group: kick and dismiss.
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g2","name":"two","type":0},"members":[{"member_id":"u1"},{"member_id":"u2"}]}}`), nil)
	e.ok(r, "/robot/group/member/del", map[string]any{"group_id": "g2", "members": []string{"u1"}}, nil)
	if got := fmt.Sprint(e.members("g2")); got != "map[robota:2 u2:0]" {
		t.Errorf("after kick: %s", got)
	}
	e.want(wildfire.CodeNotRight, r, "/robot/group/member/del", map[string]any{"group_id": "g2", "members": []string{"robota"}})
	e.want(wildfire.CodeInvalidParameter, r, "/robot/group/member/del", map[string]any{"group_id": "g2", "members": []string{}})
	e.ok(r, "/robot/group/del", map[string]any{"group_id": "g2"}, nil)
	e.want(wildfire.CodeNotExist, r, "/robot/group/get_info", map[string]any{"groupId": "g2"})
	e.want(wildfire.CodeNotExist, r, "/robot/group/del", map[string]any{"group_id": "g2"})
}

// The operator in a robot's body is ignored: the robot acts.
func TestRobotOperatorIgnored(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	e.user("boss")
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n","type":2,"owner":"boss"},"members":[{"member_id":"robota"}]}}`), nil)
	// The owner's name in operator gives the robot nothing.
	e.want(wildfire.CodeNotRight, r, "/robot/group/del", map[string]any{"group_id": "g1", "operator": "boss"})
	e.want(wildfire.CodeNotRight, r, "/robot/group/modify", map[string]any{"group_id": "g1", "operator": "boss", "type": 3, "value": "1"})
	// The robot's own create: it owns the group, not the operator.
	var res struct {
		GroupID string `json:"group_id"`
	}
	e.ok(r, "/robot/group/create", jsonRaw(`{"operator":"boss","group":{"group_info":{"name":"mine","owner":"boss","type":0}}}`), &res)
	if got := fmt.Sprint(e.members(res.GroupID)); got != "map[robota:2]" {
		t.Errorf("members %s", got)
	}
}

func TestRobotSendMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	e.user("boss")
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n","type":2}}}`), nil)
	e.exact(t, r, "/robot/message/send", `{"sender":"boss","conv":{"type":1,"target":"g1","line":0},"payload":{"type":1,"searchableContent":"hi","mediaType":0,"persistFlag":0,"expireDuration":0,"mentionedType":0}}`,
		`{"code":0,"msg":"success","result":{"messageUid":2,"timestamp":1700000000000}}`)
	ms := e.messages("g1", 0)
	if last := ms[len(ms)-1]; last.Sender != "robota" || last.Payload.Type != 1 || last.MessageUID != 2 {
		t.Errorf("sent message %+v (sender forced to the robot)", last)
	}
	cases := []struct {
		name, body string
		code       int
	}{
		{"notification type", `{"conv":{"type":1,"target":"g1"},"payload":{"type":104}}`, wildfire.CodeInvalidParameter},
		{"recall type", `{"conv":{"type":1,"target":"g1"},"payload":{"type":80}}`, wildfire.CodeInvalidParameter},
		{"single chat", `{"conv":{"type":0,"target":"boss"},"payload":{"type":1}}`, wildfire.CodeNotImplement},
		{"conv type out of range", `{"conv":{"type":7,"target":"g1"},"payload":{"type":1}}`, wildfire.CodeInvalidParameter},
		{"no target", `{"conv":{"type":1},"payload":{"type":1}}`, wildfire.CodeInvalidParameter},
		{"no payload", `{"conv":{"type":1,"target":"g1"}}`, wildfire.CodeInvalidParameter},
		{"no conv", `{"payload":{"type":1}}`, wildfire.CodeInvalidParameter},
		{"unknown group", `{"conv":{"type":1,"target":"nope"},"payload":{"type":1}}`, wildfire.CodeNotExist},
		{"bad line", `{"conv":{"type":1,"target":"g1","line":256},"payload":{"type":1}}`, wildfire.CodeInvalidParameter},
	}
	for _, c := range cases {
		e.want(c.code, r, "/robot/message/send", jsonRaw(c.body))
	}
	// Not a member: 9. A plain member in a muted group: 241.
	e.ok(e.admin, "/admin/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g2","name":"n","type":2,"owner":"boss"}}}`), nil)
	e.want(wildfire.CodeNotInGroup, r, "/robot/message/send", jsonRaw(`{"conv":{"type":1,"target":"g2"},"payload":{"type":1}}`))
	e.ok(e.admin, "/admin/group/member/add", jsonRaw(`{"group_id":"g2","members":[{"member_id":"robota"}]}`), nil)
	e.ok(e.admin, "/admin/group/modify", jsonRaw(`{"group_id":"g2","type":3,"value":"1"}`), nil)
	e.want(wildfire.CodeGroupMuted, r, "/robot/message/send", jsonRaw(`{"conv":{"type":1,"target":"g2"},"payload":{"type":1}}`))
	e.ok(e.admin, "/admin/group/manager/mute", jsonRaw(`{"group_id":"g2","members":["robota"],"is_manager":true}`), nil)
	e.want(wildfire.CodeNotRight, r, "/robot/message/send", jsonRaw(`{"conv":{"type":1,"target":"g2"},"payload":{"type":1}}`))
}

func TestRobotProfileAndUsers(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	// Profile: OutputRobot without the secret; it reads no body (an SDK may send "null").
	const profile = `{"code":0,"msg":"success","result":{"userId":"robota","name":"robota","displayName":"robota","portrait":"","gender":0,"mobile":"","email":"","address":"","company":"","social":"","extra":"","type":1,"updateDt":1700000000000,"owner":"","callback":"","robotExtra":""}}`
	e.exact(t, r, "/robot/profile", "", profile)
	e.exact(t, r, "/robot/profile", "null", profile)

	e.ok(e.admin, "/admin/user/create", map[string]any{"userId": "u1", "name": "alice", "displayName": "Alice", "mobile": "13800000000", "password": "pw"}, nil)
	want := `{"code":0,"msg":"success","result":{"userId":"u1","name":"alice","displayName":"Alice","portrait":"","gender":0,"mobile":"13800000000","email":"","address":"","company":"","social":"","extra":"","type":0,"updateDt":1700000000000}}`
	for _, body := range []string{`{"userId":"u1"}`, `{"name":"alice"}`, `{"mobile":"13800000000"}`, `{"userId":"u1","name":"other"}`, `{"mobile":13800000000}`} {
		e.exact(t, r, "/robot/user_info", body, want)
	}
	e.want(wildfire.CodeNotExist, r, "/robot/user_info", map[string]any{"userId": "nobody"})
	e.want(wildfire.CodeInvalidParameter, r, "/robot/user_info", map[string]any{})

	// update_profile: the community form, the docs' form and the JS SDK's form.
	updates := []struct {
		body string
		code int
	}{
		{`{"intValue":0,"strValue":"nick"}`, 0},
		{`{"intValue":"2","strValue":"1"}`, 0},
		{`{"type":4,"value":"a@b.c"}`, 0},
		{`{"first":5,"second":"street"}`, 0},
		{`{"intValue":3,"strValue":"123"}`, 0},    // mobile: ignored, as Wildfire
		{`{"intValue":99,"strValue":"x"}`, 0},     // unknown: no-op
		{`{"intValue":2,"strValue":"male"}`, 251}, // gender must be a number
		{`{"strValue":"x"}`, 251},
	}
	for _, u := range updates {
		e.want(u.code, r, "/robot/update_profile", jsonRaw(u.body))
	}
	var p struct {
		DisplayName string `json:"displayName"`
		Gender      int    `json:"gender"`
		Email       string `json:"email"`
		Address     string `json:"address"`
		Mobile      string `json:"mobile"`
	}
	e.ok(r, "/robot/profile", nil, &p)
	if p.DisplayName != "nick" || p.Gender != 1 || p.Email != "a@b.c" || p.Address != "street" || p.Mobile != "" {
		t.Errorf("profile after updates: %+v", p)
	}

	// Callback.
	e.want(wildfire.CodeInvalidParameter, r, "/robot/set_callback", map[string]any{"url": ""})
	e.ok(r, "/robot/set_callback", map[string]any{"url": "http://cb.example/robot"}, nil)
	e.exact(t, r, "/robot/get_callback", "", `{"code":0,"msg":"success","result":{"url":"http://cb.example/robot"}}`)
	e.ok(r, "/robot/delete_callback", nil, nil)
	e.exact(t, r, "/robot/get_callback", "", `{"code":0,"msg":"success","result":{"url":""}}`)
}

// Concurrent calls of several robots: the store serialises the writes, the
// limiter and the nonce cache are shared, and nothing is lost.
func TestConcurrentCalls(t *testing.T) {
	e := newEnv(t, envOptions{robotRate: wildfire.DefaultRobotRate})
	robots := []*client.Client{e.robot("ra", "a"), e.robot("rb", "b")}
	e.ok(robots[0], "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n","type":0},"members":[{"member_id":"rb"}]}}`), nil)
	const perRobot = 20
	var wg sync.WaitGroup
	codes := make(chan int, 2*perRobot*2)
	for i, r := range robots {
		for j := range perRobot {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := r.Call(context.Background(), "/robot/group/member/add",
					map[string]any{"group_id": "g1", "members": []map[string]string{{"member_id": fmt.Sprintf("u%d-%d", i, j)}}}, nil)
				codes <- code
				code, _ = r.Call(context.Background(), "/robot/profile", nil, nil)
				codes <- code
			}()
		}
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 0 {
			t.Errorf("code %d", code)
		}
	}
	if got := len(e.members("g1")); got != 2+2*perRobot {
		t.Errorf("%d members, want %d", got, 2+2*perRobot)
	}
	if got := len(e.messages("g1", 0)); got != 1+2*perRobot {
		t.Errorf("%d timeline entries, want %d", got, 1+2*perRobot)
	}
}

// A create over the member limit is refused with 240 (Wildfire checks the
// limit on member/add only) and leaves no group.
func TestCreateMemberLimit(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "secret")
	body := func(max int) map[string]any {
		return map[string]any{"group": map[string]any{
			"group_info": map[string]any{"target_id": fmt.Sprint("g", max), "name": "n", "type": 2, "max_member_count": max},
			"members":    []any{map[string]any{"member_id": "m1"}, map[string]any{"member_id": "m2"}},
		}}
	}
	e.want(240, r, "/robot/group/create", body(2))
	e.want(253, r, "/robot/group/get_info", map[string]any{"groupId": "g2"})
	e.ok(r, "/robot/group/create", body(3), nil)
	if got, want := fmt.Sprint(e.members("g3")), "map[m1:0 m2:0 robota:2]"; got != want {
		t.Errorf("members %s, want %s", got, want)
	}
}
