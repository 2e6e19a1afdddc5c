package wildfire_test

import (
	"context"
	"strings"
	"testing"
)

// Every call has a debug line; a refused one also has one info line with its
// route, caller, code and reason. No line holds a secret or a signature.
func TestRefusedCallsAreLogged(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.robot("robota", "robot-s3cret")
	e.user("u1")
	e.ok(r, "/robot/group/create", jsonRaw(`{"group":{"group_info":{"target_id":"g1","name":"n"},"members":[{"member_id":"u1"}]}}`), nil)
	before := len(e.logs.String())

	e.want(251, r, "/robot/group/member/get", map[string]any{"groupId": "g1"})
	e.want(253, e.admin, "/admin/group/get_info", map[string]any{"group_id": "nope"})
	bad, err := r.NewRequest(context.Background(), "/robot/profile", nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := bad.Header.Get("sign")
	bad.Header.Set("sign", strings.Repeat("0", 40))
	if _, body := e.do(r, bad); !strings.HasPrefix(body, `{"code":244,`) {
		t.Fatalf("bad sign: %s", body)
	}
	e.want(0, r, "/robot/profile", nil)

	logs := e.logs.String()[before:]
	var refused, requests []string
	for _, l := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(l, `msg="request refused"`):
			refused = append(refused, l)
		case strings.Contains(l, "msg=request "):
			requests = append(requests, l)
		}
	}
	want := [][]string{
		{"level=INFO", "door=robot", "route=/robot/group/member/get", "caller=robota", "code=251", `reason="Invalid parameter: memberId is missing"`},
		{"level=INFO", "door=admin", "route=/admin/group/get_info", "caller=admin", "code=253", `reason="not exist: group \"nope\" not found"`},
		{"level=INFO", "door=robot", "route=/robot/profile", "caller=robota", "code=244", `reason="auth failure: sign is not sha1(nonce|secret|timestamp) in lower-case hex"`},
	}
	if len(refused) != len(want) {
		t.Fatalf("%d refused lines, want %d:\n%s", len(refused), len(want), logs)
	}
	for i, attrs := range want {
		for _, a := range attrs {
			if !strings.Contains(refused[i], a) {
				t.Errorf("line %q lacks %s", refused[i], a)
			}
		}
	}
	if len(requests) != 4 {
		t.Errorf("%d request lines, want 4:\n%s", len(requests), logs)
	}
	for _, l := range requests {
		if !strings.Contains(l, "level=DEBUG") || !strings.Contains(l, "duration=") || !strings.Contains(l, "status=200") {
			t.Errorf("request line %q", l)
		}
	}
	for _, secret := range []string{"robot-s3cret", adminSecret, sign} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
