package wildfire_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/wildfire"
)

func TestAdminResetSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	old := e.robot("bot1", "old-secret")
	e.user("u1")
	e.want(0, old, "/robot/profile", nil) // the secret is cached now
	var before struct {
		AppID, AppSecret string
	}
	e.ok(e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "bot1"}, &before)

	for _, tt := range []struct {
		name string
		body any
		code int
	}{
		{"no robotId", map[string]any{"which": "robot"}, wildfire.CodeInvalidParameter},
		{"no which", map[string]any{"robotId": "bot1"}, wildfire.CodeInvalidParameter},
		{"unknown which", map[string]any{"robotId": "bot1", "which": "all"}, wildfire.CodeInvalidParameter},
		{"which a number", map[string]any{"robotId": "bot1", "which": 3}, wildfire.CodeInvalidParameter},
		{"not a robot", map[string]any{"robotId": "u1", "which": "both"}, wildfire.CodeNotExist},
		{"no such user", map[string]any{"robotId": "nobody", "which": "app"}, wildfire.CodeNotExist},
	} {
		e.want(tt.code, e.admin, "/admin/robot/reset_secret", tt.body)
	}

	var app struct {
		RobotID   string  `json:"robotId"`
		Secret    *string `json:"secret"`
		AppSecret string  `json:"appSecret"`
	}
	e.ok(e.admin, "/admin/robot/reset_secret", map[string]any{"robotId": "bot1", "which": "app"}, &app)
	if app.RobotID != "bot1" || app.Secret != nil || len(app.AppSecret) != 32 || app.AppSecret == before.AppSecret {
		t.Errorf(`reset_secret "app" = %+v, want a new appSecret only`, app)
	}
	e.want(0, old, "/robot/profile", nil) // the robot secret is untouched

	var robot struct {
		Secret    string  `json:"secret"`
		AppSecret *string `json:"appSecret"`
	}
	e.ok(e.admin, "/admin/robot/reset_secret", map[string]any{"robotId": "bot1", "which": "robot"}, &robot)
	if len(robot.Secret) != 32 || robot.AppSecret != nil {
		t.Errorf(`reset_secret "robot" = %+v, want a new secret only`, robot)
	}
	// The old secret stops signing at once, though it was cached.
	e.want(wildfire.CodeAuthFailure, old, "/robot/profile", nil)
	renewed := client.NewRobot(e.robotSrv.URL, "bot1", robot.Secret)
	renewed.Now = e.clock.Now
	e.want(0, renewed, "/robot/profile", nil)

	var both struct{ Secret, AppSecret string }
	e.ok(e.admin, "/admin/robot/reset_secret", map[string]any{"robotId": "bot1", "which": "both"}, &both)
	var after struct{ Secret, AppID, AppSecret string }
	e.ok(e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "bot1"}, &after)
	if after.Secret != both.Secret || after.AppSecret != both.AppSecret || both.Secret == robot.Secret ||
		both.AppSecret == app.AppSecret || after.AppID != before.AppID {
		t.Errorf(`reset_secret "both" = %+v; stored %+v`, both, after)
	}
}

func TestAdminIntents(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.robot("bot1", "s")
	e.user("u1")
	for _, tt := range []struct {
		name string
		body string
		code int
	}{
		{"no robotId", `{"intents":1}`, wildfire.CodeInvalidParameter},
		{"no intents", `{"robotId":"bot1"}`, wildfire.CodeInvalidParameter},
		{"unknown bit", `{"robotId":"bot1","intents":65536}`, wildfire.CodeInvalidParameter},
		{"negative", `{"robotId":"bot1","intents":-1}`, wildfire.CodeInvalidParameter},
		{"not a number", `{"robotId":"bot1","intents":"many"}`, wildfire.CodeInvalidParameter},
		{"not a robot", `{"robotId":"u1","intents":1}`, wildfire.CodeNotExist},
	} {
		e.want(tt.code, e.admin, "/admin/robot/intents", jsonRaw(tt.body))
	}
	e.exact(t, e.admin, "/admin/robot/intents", `{"robotId":"bot1","intents":"33554433"}`,
		`{"code":0,"msg":"success","result":{"robotId":"bot1","intents":33554433}}`)
	var info struct {
		Intents int64 `json:"intents"`
	}
	e.ok(e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "bot1"}, &info)
	if info.Intents != 1<<25|1 {
		t.Errorf("get_robot_info intents %d, want %d", info.Intents, 1<<25|1)
	}
	e.exact(t, e.admin, "/admin/robot/intents", `{"robotId":"bot1","intents":0}`,
		`{"code":0,"msg":"success","result":{"robotId":"bot1","intents":0}}`)
}

// FuzzAdminCredentials sends the credential calls arbitrary bodies, signed
// with the admin secret: every answer is a Wildfire envelope with a known
// code, never a server error.
func FuzzAdminCredentials(f *testing.F) {
	e := newEnv(f, envOptions{})
	e.robot("bot1", "s")
	paths := []string{"/admin/robot/reset_secret", "/admin/robot/intents"}
	for _, seed := range []string{
		`{"robotId":"bot1","which":"both"}`, `{"robotId":"bot1","which":"app"}`, `{"robotId":"bot1","which":null}`,
		`{"robotId":"bot1","intents":33554432}`, `{"robotId":"bot1","intents":"0x10"}`, `{"robotId":"bot1","intents":1e99}`,
		`{"robotId":["bot1"]}`, `[]`, `{}`, `{"robotId":"bot1\u0000"}`,
	} {
		f.Add(uint8(0), []byte(seed))
		f.Add(uint8(1), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := paths[int(route)%len(paths)]
		req, err := e.admin.NewRequest(context.Background(), path, body)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.adminH.ServeHTTP(w, req)
		checkEnvelope(t, w, fmt.Sprintf("%s %q", path, body))
	})
}
