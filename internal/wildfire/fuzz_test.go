package wildfire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/wildfire"
)

// wildfireCodes are the codes this door may answer with.
var wildfireCodes = map[int]bool{
	0: true, 2: true, 4: true, 9: true, 11: true, 12: true, 24: true, 239: true, 240: true, 241: true,
	243: true, 244: true, 248: true, 249: true, 250: true, 251: true, 253: true, 254: true,
}

// goodBodies are accepted bodies of each route, as fuzz seeds.
var goodBodies = []badInput{
	{"/robot/group/create", `{"group":{"group_info":{"name":"f","type":0},"members":[{"member_id":"u1","type":"0"}]},"to_lines":[0,1],"notify_message":{"type":1,"content":"c","base64edData":"AAE="}}`, ""},
	{"/robot/group/get_info", `{"groupId":"g1"}`, ""},
	{"/robot/group/modify", `{"group_id":"g1","type":0,"value":"x"}`, ""},
	{"/robot/group/member/list", `{"groupId":"g1"}`, ""},
	{"/robot/group/member/get", `{"groupId":"g1","memberId":"u1"}`, ""},
	{"/robot/group/member/add", `{"group_id":"g1","members":[{"member_id":"u3","alias":"a","extra":"e"}]}`, ""},
	{"/robot/group/member/set_alias", `{"group_id":"g1","memberId":"u1","alias":"al"}`, ""},
	{"/robot/group/member/set_extra", `{"group_id":"g1","memberId":"u1","extra":"ex"}`, ""},
	{"/robot/group/manager/set", `{"group_id":"g1","members":["u1"],"is_manager":true}`, ""},
	{"/robot/group/manager/mute", `{"group_id":"g1","members":["u1"],"is_mute":"false"}`, ""},
	{"/robot/group/manager/allow", `{"group_id":"g1","members":["u1"],"is_allow":true}`, ""},
	{"/robot/group/member/del", `{"group_id":"g1","members":["u3"]}`, ""},
	{"/robot/group/transfer", `{"group_id":"g1","new_owner":"robota"}`, ""},
	{"/robot/message/send", `{"conv":{"type":1,"target":"g1","line":0},"payload":{"type":1,"searchableContent":"hi","mentionedType":1,"mentionedTarget":["u1"]}}`, ""},
	{"/robot/user_info", `{"userId":"u1"}`, ""},
	{"/robot/update_profile", `{"intValue":0,"strValue":"nick"}`, ""},
	{"/robot/set_callback", `{"url":"http://cb"}`, ""},
	{"/robot/group/member/quit", `{"group_id":"g1"}`, ""},
	{"/robot/group/del", `{"group_id":"g1"}`, ""},
}

// FuzzRobotRequest sends every route arbitrary bodies, correctly signed,
// through the real handler over real SQLite. No body may panic, get a status
// other than 200, an answer that is not a Wildfire envelope, or code 4 (a
// server error means a bug: an unmapped error or a store failure).
func FuzzRobotRequest(f *testing.F) {
	e, r := badInputEnv(f)
	index := make(map[string]uint8, len(robotPaths))
	for i, p := range robotPaths {
		index[p] = uint8(i)
	}
	for _, c := range append(append([]badInput(nil), badInputs...), goodBodies...) {
		f.Add(index[c.path], []byte(c.body))
	}
	for i := range robotPaths {
		for _, c := range malformedBodies {
			if len(c.body) < 1000 {
				f.Add(uint8(i), []byte(c.body))
			}
		}
	}
	f.Add(index["/robot/group/create"], []byte(deepBody(100_000)))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := robotPaths[int(route)%len(robotPaths)]
		req, err := r.NewRequest(context.Background(), path, body)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.robotH.ServeHTTP(w, req)
		checkEnvelope(t, w, fmt.Sprintf("%s %q", path, body))
	})
}

// checkEnvelope requires an HTTP 200 Wildfire envelope with a known code other than 4.
func checkEnvelope(t *testing.T, w *httptest.ResponseRecorder, what string) int {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("%s: HTTP %d %s", what, w.Code, w.Body)
	}
	var env struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Code == nil || env.Msg == "" {
		t.Fatalf("%s: not an envelope: %s (%v)", what, w.Body, err)
	}
	if !wildfireCodes[*env.Code] || *env.Code == wildfire.CodeServerError {
		t.Fatalf("%s: code %d %s", what, *env.Code, w.Body)
	}
	return *env.Code
}

// FuzzSignature sends arbitrary signature headers. Every answer is one of
// the auth codes in the nested-echo shape, and a call succeeds only when its
// signature is the robot's real one.
func FuzzSignature(f *testing.F) {
	e := newEnv(f, envOptions{})
	addAuthRobots(f, e)
	for _, c := range authCases() {
		f.Add(c.nonce, c.timestamp, c.sign, c.rid)
	}
	secrets := map[string]string{authRobot: authSecret}
	f.Fuzz(func(t *testing.T, nonce, timestamp, sign, rid string) {
		req := httptest.NewRequest(http.MethodPost, "/robot/profile", strings.NewReader("{}"))
		req.Header["nonce"] = []string{nonce}
		req.Header["Timestamp"] = []string{timestamp}
		req.Header["SIGN"] = []string{sign}
		req.Header["rid"] = []string{rid}
		w := httptest.NewRecorder()
		e.robotH.ServeHTTP(w, req)
		code := checkEnvelope(t, w, fmt.Sprintf("%q %q %q %q", nonce, timestamp, sign, rid))
		switch code {
		case 0:
			secret, ok := secrets[rid]
			if !ok || sign != wildfire.Sign(nonce, secret, timestamp) {
				t.Fatalf("accepted a forged request: %q %q %q %q", nonce, timestamp, sign, rid)
			}
		case 239, 243, 244, 248, 250, 253:
			// The nested echo of the code and its msg, which gives the
			// code's text and a reason; never the secret.
			var env struct {
				Msg    string `json:"msg"`
				Result struct {
					Code int    `json:"code"`
					Msg  string `json:"msg"`
				} `json:"result"`
			}
			if json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Result.Code != code || env.Result.Msg != env.Msg ||
				!strings.HasPrefix(env.Msg, codeMsg[code]+": ") || strings.Contains(env.Msg, authSecret) {
				t.Fatalf("body %s, want the echo of %d %q and a reason", w.Body, code, codeMsg[code])
			}
		default:
			t.Fatalf("code %d from the signature check", code)
		}
	})
}
