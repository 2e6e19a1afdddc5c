package wildfire_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/wildfire"
)

func TestSignVectors(t *testing.T) {
	vectors := []struct{ nonce, secret, ts, want string }{
		{"76616", "123456", "1558350862502", "b98f9b0717f59febccf1440067a7f50d9b31bdde"},   // Wildfire docs
		{"8169", "secret123", "1795367210383", "f1fae935c3a0fbf898011a98458636d8734d78ce"}, // Java SDK capture
	}
	for _, v := range vectors {
		if got := wildfire.Sign(v.nonce, v.secret, v.ts); got != v.want {
			t.Errorf("Sign(%s|%s|%s) = %s, want %s", v.nonce, v.secret, v.ts, got, v.want)
		}
		if got := client.Sign(v.nonce, v.secret, v.ts); got != v.want {
			t.Errorf("client.Sign(%s|%s|%s) = %s, want %s", v.nonce, v.secret, v.ts, got, v.want)
		}
	}
}

// The robot every auth case signs as.
const (
	authRobot  = "robota"
	authSecret = "s3cret"
)

// authCase is one request's signature headers and the code it must get,
// with the reason its msg gives after the code's text. absent lists headers
// not sent at all; an empty value is sent as empty.
type authCase struct {
	name                        string
	nonce, timestamp, sign, rid string
	absent                      string
	code                        int
	reason                      string
}

// authCases are the signature-check steps in order (the reference's §1
// table), each failing only its own step, at clock testEpoch with robot
// authRobot. They also seed FuzzSignature.
func authCases() []authCase {
	w := wildfire.DefaultSignWindow.Milliseconds()
	ts := func(d int64) string { return strconv.FormatInt(testEpoch+d, 10) }
	sign := func(nonce, secret, ts string) string { return wildfire.Sign(nonce, secret, ts) }
	now := ts(0)
	return []authCase{
		{"ok", "1", now, sign("1", authSecret, now), authRobot, "", 0, ""},
		{"nonce absent", "2", now, sign("2", authSecret, now), authRobot, "nonce", wildfire.CodeNotSigned, "header nonce is missing"},
		{"timestamp absent", "3", now, sign("3", authSecret, now), authRobot, "timestamp", wildfire.CodeNotSigned, "header timestamp is missing"},
		{"sign absent", "4", now, sign("4", authSecret, now), authRobot, "sign", wildfire.CodeNotSigned, "header sign is missing"},
		{"rid absent", "5", now, sign("5", authSecret, now), authRobot, "rid", wildfire.CodeNotSigned, "header rid is missing"},
		{"nonce empty", "", now, sign("", authSecret, now), authRobot, "", wildfire.CodeNotSigned, "header nonce is missing"},
		{"rid empty", "6", now, sign("6", authSecret, now), "", "", wildfire.CodeNotSigned, "header rid is missing"},
		{"timestamp not a number", "7", "abc", sign("7", authSecret, "abc"), authRobot, "", wildfire.CodeNotSigned, "header timestamp is not an integer of Unix milliseconds"},
		{"timestamp with fraction", "8", now + ".0", sign("8", authSecret, now+".0"), authRobot, "", wildfire.CodeNotSigned, "header timestamp is not an integer of Unix milliseconds"},
		{"timestamp beyond int64", "9", "99999999999999999999", sign("9", authSecret, "99999999999999999999"), authRobot, "", wildfire.CodeNotSigned, "header timestamp is not an integer of Unix milliseconds"},
		{"timestamp in seconds", "10", ts(-testEpoch + testEpoch/1000), sign("10", authSecret, ts(-testEpoch+testEpoch/1000)), authRobot, "", wildfire.CodeSignExpired, "timestamp is more than 5m0s before the server's clock (it is in seconds: give milliseconds)"},
		{"expired", "11", ts(-w - 1), sign("11", authSecret, ts(-w-1)), authRobot, "", wildfire.CodeSignExpired, "timestamp is more than 5m0s before the server's clock"},
		{"oldest accepted", "12", ts(-w), sign("12", authSecret, ts(-w)), authRobot, "", 0, ""},
		{"future", "13", ts(w + 1), sign("13", authSecret, ts(w+1)), authRobot, "", wildfire.CodeSignExpired, "timestamp is more than 5m0s after the server's clock"},
		{"latest accepted", "14", ts(w), sign("14", authSecret, ts(w)), authRobot, "", 0, ""},
		{"minimum int64", "15", "-9223372036854775808", sign("15", authSecret, "-9223372036854775808"), authRobot, "", wildfire.CodeSignExpired, "timestamp is more than 5m0s before the server's clock"},
		{"unknown robot", "16", now, sign("16", authSecret, now), "nobody", "", wildfire.CodeNotExist, "no robot has the rid nobody"},
		{"robot secret empty", "17", now, sign("17", "", now), "nosecret", "", wildfire.CodeNotRight, "robot nosecret has no secret"},
		{"bad sign", "18", now, sign("18", "wrong", now), authRobot, "", wildfire.CodeAuthFailure, "sign is not sha1(nonce|secret|timestamp) in lower-case hex"},
		{"upper-case sign", "19", now, strings.ToUpper(sign("19", authSecret, now)), authRobot, "", wildfire.CodeAuthFailure, "sign is not sha1(nonce|secret|timestamp) in lower-case hex"},
		{"admin secret", "20", now, sign("20", adminSecret, now), authRobot, "", wildfire.CodeAuthFailure, "sign is not sha1(nonce|secret|timestamp) in lower-case hex"},
		{"rid too long", "21", now, sign("21", authSecret, now), strings.Repeat("r", group.MaxIDLen+1), "", wildfire.CodeNotSigned, "header rid is longer than 64 bytes"},
		{"nonce too long", strings.Repeat("9", wildfire.MaxNonceLen+1), now, sign(strings.Repeat("9", wildfire.MaxNonceLen+1), authSecret, now), authRobot, "", wildfire.CodeNotSigned, "header nonce is longer than 64 bytes"},
		{"sign too long", "22", now, sign("22", authSecret, now) + strings.Repeat("0", wildfire.MaxSignLen), authRobot, "", wildfire.CodeNotSigned, "header sign is longer than 64 bytes"},
	}
}

// signedRequest builds a request carrying c's headers.
func (c authCase) request(t testing.TB, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"nonce": c.nonce, "timestamp": c.timestamp, "sign": c.sign, "rid": c.rid} {
		if name != c.absent {
			req.Header[name] = []string{v} // as given: lower-case names must work too
		}
	}
	return req
}

// authBody is the exact body of a failed signature check: Wildfire echoes
// code and msg inside result. The msg is the code's text, then ": " and the
// reason.
func authBody(code int, reason string) string {
	msg := codeMsg[code] + ": " + reason
	return fmt.Sprintf(`{"code":%d,"msg":"%s","result":{"code":%d,"msg":"%s"}}`, code, msg, code, msg)
}

var codeMsg = map[int]string{
	wildfire.CodeNotSigned:     "api not signed or sign parameter not completion",
	wildfire.CodeOverFrequency: "over frequency",
	wildfire.CodeSignExpired:   "sign expired",
	wildfire.CodeNotExist:      "not exist",
	wildfire.CodeNotRight:      "no right to operate",
	wildfire.CodeAuthFailure:   "auth failure",
}

// addAuthRobots creates the robots the auth cases use: authRobot, and
// "nosecret", whose secret is empty (only the store can make one).
func addAuthRobots(t testing.TB, e *env) {
	t.Helper()
	e.robot(authRobot, authSecret)
	e.robot("nosecret", "placeholder")
	err := e.store.Update(context.Background(), func(tx group.Tx) error {
		b, err := tx.Bot("nosecret")
		if err != nil {
			return err
		}
		b.Secret = ""
		return tx.PutBot(b)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRobotAuthSteps(t *testing.T) {
	e := newEnv(t, envOptions{})
	addAuthRobots(t, e)
	for _, c := range authCases() {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.do(e.admin, c.request(t, e.robotSrv.URL+"/robot/profile"))
			if status != http.StatusOK {
				t.Fatalf("status %d, want 200", status)
			}
			if c.code == 0 {
				if !strings.HasPrefix(body, `{"code":0,"msg":"success","result":{"userId":"robota"`) {
					t.Fatalf("body %s, want robota's profile", body)
				}
				return
			}
			if want := authBody(c.code, c.reason); body != want {
				t.Fatalf("body\n %s\nwant\n %s", body, want)
			}
		})
	}
}

func TestRobotAuthHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot(authRobot, authSecret)
	req, err := r.NewRequest(context.Background(), "/robot/profile", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Capitalised and upper-case names, as the Java SDK and others send them.
	for name, v := range req.Header {
		delete(req.Header, name)
		req.Header[strings.ToUpper(name)] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestRobotReplay(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot(authRobot, authSecret)
	req, err := r.NewRequest(context.Background(), "/robot/profile", nil)
	if err != nil {
		t.Fatal(err)
	}
	again := req.Clone(context.Background())
	if _, body := e.do(r, req); !strings.HasPrefix(body, `{"code":0,`) {
		t.Fatalf("first: %s", body)
	}
	if _, body := e.do(r, again); body != authBody(244, "this nonce and timestamp were used already: a replay") {
		t.Fatalf("replay: %s, want 244", body)
	}
	// The same nonce and timestamp from another robot is not a replay of this one.
	other := e.robot("robotb", "other")
	req2, _ := other.NewRequest(context.Background(), "/robot/profile", nil)
	req2.Header.Set("nonce", req.Header.Get("nonce"))
	req2.Header.Set("timestamp", req.Header.Get("timestamp"))
	req2.Header.Set("sign", wildfire.Sign(req.Header.Get("nonce"), "other", req.Header.Get("timestamp")))
	if _, body := e.do(other, req2); !strings.HasPrefix(body, `{"code":0,`) {
		t.Fatalf("other robot, same nonce: %s", body)
	}
	// Still refused just before the timestamp leaves the window.
	e.clock.Add(wildfire.DefaultSignWindow)
	if _, body := e.do(r, req.Clone(context.Background())); body != authBody(244, "this nonce and timestamp were used already: a replay") {
		t.Fatalf("replay at the window's end: %s, want 244", body)
	}
	// After that the timestamp itself is refused.
	e.clock.Add(time.Millisecond)
	if _, body := e.do(r, req.Clone(context.Background())); body != authBody(243, "timestamp is more than 5m0s before the server's clock") {
		t.Fatalf("replay after the window: %s, want 243", body)
	}
}

func TestRobotRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{robotRate: 3})
	r := e.robot(authRobot, authSecret)
	other := e.robot("robotb", "other")
	for range 3 {
		e.want(0, r, "/robot/profile", nil)
	}
	// The limit is checked before the signature: even a badly signed call counts as over.
	bad := authCase{nonce: "x", timestamp: "not-a-number", sign: "bad", rid: authRobot}
	if _, body := e.do(r, bad.request(t, e.robotSrv.URL+"/robot/profile")); body != authBody(250, "robot robota is over its 3 calls per 10s") {
		t.Fatalf("over the limit: %s, want 250", body)
	}
	e.want(wildfire.CodeOverFrequency, r, "/robot/profile", nil)
	// Another robot has its own bucket.
	e.want(0, other, "/robot/profile", nil)
	// The bucket drains 3 calls per 10 s: one call's room after 10/3 s.
	e.clock.Add(3400 * time.Millisecond)
	e.want(0, r, "/robot/profile", nil)
	e.want(wildfire.CodeOverFrequency, r, "/robot/profile", nil)
	e.clock.Add(wildfire.RobotRatePeriod)
	for range 3 {
		e.want(0, r, "/robot/profile", nil)
	}
}

func TestAdminAuthSteps(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := wildfire.DefaultSignWindow.Milliseconds()
	now := strconv.FormatInt(testEpoch, 10)
	old := strconv.FormatInt(testEpoch-w-1, 10)
	cases := []authCase{
		{"ok", "1", now, wildfire.Sign("1", adminSecret, now), "", "rid", 0, ""},
		{"nonce absent", "2", now, wildfire.Sign("2", adminSecret, now), "", "nonce", wildfire.CodeNotSigned, "header nonce is missing"},
		{"sign empty", "3", now, "", "", "rid", wildfire.CodeNotSigned, "header sign is missing"},
		{"timestamp not a number", "4", "x", wildfire.Sign("4", adminSecret, "x"), "", "rid", wildfire.CodeNotSigned, "header timestamp is not an integer of Unix milliseconds"},
		{"expired", "5", old, wildfire.Sign("5", adminSecret, old), "", "rid", wildfire.CodeSignExpired, "timestamp is more than 5m0s before the server's clock"},
		{"bad sign", "6", now, wildfire.Sign("6", "robot-secret", now), "", "rid", wildfire.CodeAuthFailure, "sign is not sha1(nonce|secret|timestamp) in lower-case hex"},
		{"replay", "1", now, wildfire.Sign("1", adminSecret, now), "", "rid", wildfire.CodeAuthFailure, "this nonce and timestamp were used already: a replay"},
		{"a rid is ignored", "7", now, wildfire.Sign("7", adminSecret, now), "whoever", "", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, body := e.do(e.admin, c.request(t, e.adminSrv.URL+"/admin/group/of_user"))
			want := ""
			if c.code == 0 {
				want = `{"code":251,"msg":"Invalid parameter: userId is missing"}` // authenticated; {} lacks userId
			} else {
				want = authBody(c.code, c.reason)
			}
			if body != want {
				t.Fatalf("body\n %s\nwant\n %s", body, want)
			}
		})
	}
}

func TestAdminEmptySecret(t *testing.T) {
	e := newEnv(t, envOptions{noSecret: true})
	now := strconv.FormatInt(testEpoch, 10)
	c := authCase{nonce: "1", timestamp: now, sign: wildfire.Sign("1", "", now)}
	if _, body := e.do(e.admin, c.request(t, e.adminSrv.URL+"/admin/user/create")); body != authBody(248, "the server has no admin secret") {
		t.Fatalf("empty admin secret: %s, want 248", body)
	}
}

// A robot's secret is cached for DefaultSecretCacheTTL: a new secret is
// required, and the old one refused, once that has passed.
func TestRobotSecretChangeTakesEffect(t *testing.T) {
	e := newEnv(t, envOptions{})
	old := e.robot("rob", "old-secret")
	if code := e.call(old, "/robot/profile", nil, nil); code != 0 {
		t.Fatalf("old secret: code %d", code)
	}
	e.robot("rob", "new-secret")
	e.clock.Add(wildfire.DefaultSecretCacheTTL + time.Millisecond)
	if code := e.call(old, "/robot/profile", nil, nil); code != wildfire.CodeAuthFailure {
		t.Fatalf("old secret after the change: code %d, want %d", code, wildfire.CodeAuthFailure)
	}
	fresh := client.NewRobot(e.robotSrv.URL, "rob", "new-secret")
	fresh.Now = e.clock.Now
	if code := e.call(fresh, "/robot/profile", nil, nil); code != 0 {
		t.Fatalf("new secret: code %d", code)
	}
}
