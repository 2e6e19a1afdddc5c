package wildfire_test

import (
	"testing"

	"github.com/qun-chat/qun/internal/wildfire"
)

// The delivery and session calls check their bodies first (251), then
// answer 254 when the wiring serves no deliveries or sessions; they work
// through internal/app's wiring (TestWebhookBotgo and TestRobotSessions in cmd/qun).
func TestDeliveryCallsBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.robot("bot1", "s")
	for _, tc := range []struct {
		path string
		body string
		code int
	}{
		{"/admin/robot/webhook", `{"robotId":"bot1"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/webhook", `{"url":"http://x"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/webhook", `{"robotId":"bot1","url":"http://x","intents":-1}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/webhook", `{"robotId":"bot1","url":"http://x","intents":"x"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/webhook", `{"robotId":"bot1","url":""}`, wildfire.CodeNotImplement},
		{"/admin/robot/deliveries", `{}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/deliveries", `{"robotId":"bot1","limit":101}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/deliveries", `{"robotId":"bot1","limit":-1}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/deliveries", `{"robotId":"bot1"}`, wildfire.CodeNotImplement},
		{"/admin/robot/redeliver", `{"robotId":"bot1"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/redeliver", `{"robotId":"bot1","from_seq":-1}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/redeliver", `{"robotId":"bot1","from_seq":1,"stream":"gateway"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/redeliver", `{"robotId":"bot1","from_seq":1,"stream":"webhook"}`, wildfire.CodeNotImplement},
		{"/admin/robot/sessions", `{}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/sessions", `{"robotId":"bot1","limit":101}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/sessions", `{"robotId":"bot1","limit":-1}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/sessions", `{"robotId":"bot1","limit":"x"}`, wildfire.CodeInvalidParameter},
		{"/admin/robot/sessions", `{"robotId":"bot1"}`, wildfire.CodeNotImplement},
	} {
		e.want(tc.code, e.admin, tc.path, jsonRaw(tc.body))
	}
	// Without deliveries, get_robot_info shows no webhook.
	var info map[string]any
	e.ok(e.admin, "/admin/user/get_robot_info", map[string]any{"robotId": "bot1"}, &info)
	if _, ok := info["webhook"]; ok {
		t.Errorf("get_robot_info shows a webhook: %v", info)
	}
}
