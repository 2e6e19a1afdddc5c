package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app/apptest"
)

// tokenStatus asks base's token endpoint for a token with appSecret and
// returns the HTTP status and body.
func tokenStatus(t *testing.T, base, appID, appSecret string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"appId":%q,"clientSecret":%q}`, appID, appSecret)
	resp, err := http.Post(base+"/app/getAppAccessToken", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// identifyRefused identifies on n's gateway with tok asking for intents and
// requires the close code 4014 (disallowed intents).
func identifyRefused(t *testing.T, what string, n *qunNode, tok string, intents int64) {
	t.Helper()
	c := mnRawDial(t, what, n)
	c.send(2, map[string]any{"token": "QQBot " + tok, "intents": intents, "shard": []int{0, 1}})
	f, err := c.read()
	if code := websocket.CloseStatus(err); code != 4014 {
		t.Fatalf("%s: got %+v, %v; want the connection closed with 4014", what, f, err)
	}
}

// TestCLIRobotCredentials resets a robot's secrets and sets its intents with
// the CLI against a real qun serve, and checks what stops working.
func TestCLIRobotCredentials(t *testing.T) {
	data := t.TempDir()
	tm := apptest.Start(t, apptest.Config(t, data))
	e := &cliEnv{t: t, vars: map[string]string{"QUN_ADMIN_ADDR": strings.TrimPrefix(tm.Admin, "http://"), "QUN_DATA": data}}
	var creds client.RobotCredentials
	e.okJSON(&creds, "robot", "create", "--id", "echo", "--name", "echo")
	oldToken := mnToken(t, "a token with the first appSecret", tm.Public, creds.AppID, creds.AppSecret)

	var app client.NewSecrets
	out := e.ok("robot", "reset-secret", "echo", "--which", "app")
	if strings.Contains(out, `"secret"`) {
		t.Errorf("reset-secret --which app printed the robot secret it kept: %s", out)
	}
	if err := json.Unmarshal([]byte(out), &app); err != nil {
		t.Fatal(err)
	}
	if app.RobotID != "echo" || app.Secret != "" || app.AppSecret == "" || app.AppSecret == creds.AppSecret {
		t.Fatalf("reset-secret --which app = %+v", app)
	}
	if st, body := tokenStatus(t, tm.Public, creds.AppID, creds.AppSecret); st != http.StatusUnauthorized {
		t.Errorf("a token with the old appSecret: %d %s, want 401", st, body)
	}
	req, _ := http.NewRequest(http.MethodGet, tm.Public+"/users/@me", nil)
	req.Header.Set("Authorization", "QQBot "+oldToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token issued with the old appSecret: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	tok := mnToken(t, "a token with the new appSecret", tm.Public, creds.AppID, app.AppSecret)

	var robot client.NewSecrets
	out = e.ok("robot", "reset-secret", "echo", "--which", "robot")
	if strings.Contains(out, `"appSecret"`) {
		t.Errorf("reset-secret --which robot printed the appSecret it kept: %s", out)
	}
	if err := json.Unmarshal([]byte(out), &robot); err != nil {
		t.Fatal(err)
	}
	if robot.Secret == "" || robot.Secret == creds.Secret || robot.AppSecret != "" {
		t.Fatalf("reset-secret --which robot = %+v", robot)
	}
	e.fails(1, "qun call: code 244: auth failure: sign is not sha1(nonce|secret|timestamp) in lower-case hex\n"+
		"qun call: the robot secret (--secret, QUN_ROBOT_SECRET) is not echo's; 'qun robot get echo' prints it\n",
		"call", "--robot", "echo", "--secret", creds.Secret, "--addr", tm.Public, "profile")
	e.ok("call", "--robot", "echo", "--secret", robot.Secret, "--addr", tm.Public, "profile")

	if out := e.ok("robot", "intents", "echo", "GROUP_AND_C2C_EVENT"); out != "{\n  \"robotId\": \"echo\",\n  \"intents\": 33554432\n}\n" {
		t.Errorf("robot intents printed %q", out)
	}
	identifyRefused(t, "identify with GUILDS beyond the intents", &qunNode{Public: tm.Public}, tok, 1<<25|1)
	mnRawDial(t, "identify within the intents", &qunNode{Public: tm.Public}).identify(tok)
	var got client.Robot
	e.okJSON(&got, "robot", "get", "echo")
	if got.Intents != 1<<25 || got.AppSecret != app.AppSecret || got.Secret != robot.Secret {
		t.Errorf("robot get = intents %d, secrets %q %q", got.Intents, got.Secret, got.AppSecret)
	}
	e.okJSON(&struct{}{}, "robot", "intents", "echo", "guilds, 0x2000000")

	e.fails(2, "qun robot reset-secret: --which is robot, app or both\nRun 'qun robot reset-secret -h' for help.\n", "robot", "reset-secret", "echo")
	e.fails(2, "qun robot reset-secret: --which is robot, app or both\nRun 'qun robot reset-secret -h' for help.\n", "robot", "reset-secret", "echo", "--which", "all")
	e.fails(1, "qun robot reset-secret: code 253: not exist: bot \"nobody\" not found\n", "robot", "reset-secret", "nobody", "--which", "app")
	e.fails(2, "qun robot intents: \"LOTS\" is neither a number nor an intent name (qun help robot intents lists them)\nRun 'qun robot intents -h' for help.\n", "robot", "intents", "echo", "LOTS")
	e.fails(1, "qun robot intents: code 251: Invalid parameter: intents 65536 has bits that name no intent\n", "robot", "intents", "echo", "65536")
}
