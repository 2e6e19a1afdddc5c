package wildfire

import (
	"github.com/qun-chat/qun/internal/group"
)

// The Admin API's calls on a robot's credentials and intents.

// secretsByWhich are the secrets /admin/robot/reset_secret's which names.
var secretsByWhich = map[string]group.Secrets{
	"robot": group.RobotSecret,
	"app":   group.AppSecret,
	"both":  group.BothSecrets,
}

// resetSecretResult is the result of /admin/robot/reset_secret: the
// secrets renewed, each shown this once.
type resetSecretResult struct {
	RobotID   string `json:"robotId"`
	Secret    string `json:"secret,omitempty"`
	AppSecret string `json:"appSecret,omitempty"`
}

// resetSecret serves /admin/robot/reset_secret: {robotId, which: "robot" |
// "app" | "both"} → the new secrets. A new appSecret revokes the robot's
// access tokens.
func (a *api) resetSecret(r *request) (any, error) {
	var body struct {
		robotIDBody
		Which flexString `json:"which"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.RobotID == "" {
		return nil, invalid("robotId is missing")
	}
	which, ok := secretsByWhich[string(body.Which)]
	if !ok {
		return nil, invalid(`which is not "robot", "app" or "both"`)
	}
	b, err := a.svc.ResetSecrets(r.ctx, string(body.RobotID), which)
	if err != nil {
		return nil, err
	}
	out := resetSecretResult{RobotID: b.UserID}
	if which&group.RobotSecret != 0 {
		out.Secret = b.Secret
	}
	if which&group.AppSecret != 0 {
		out.AppSecret = b.AppSecret
	}
	return out, nil
}

// intentsResult is the result of /admin/robot/intents.
type intentsResult struct {
	RobotID string `json:"robotId"`
	Intents int64  `json:"intents"`
}

// setIntents serves /admin/robot/intents: {robotId, intents} → the stored
// intents. intents is required; 0 is the default set.
func (a *api) setIntents(r *request) (any, error) {
	var body struct {
		robotIDBody
		Intents *flexLong `json:"intents"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.RobotID == "" {
		return nil, invalid("robotId is missing")
	}
	if body.Intents == nil {
		return nil, invalid("intents is missing")
	}
	b, err := a.svc.SetIntents(r.ctx, string(body.RobotID), int64(*body.Intents))
	if err != nil {
		return nil, err
	}
	return intentsResult{RobotID: b.UserID, Intents: b.Intents}, nil
}

// forgetSecret drops a robot's cached secret when it was reset, so that on
// this node the old secret stops signing at once. Other nodes keep trusting
// theirs for up to DefaultSecretCacheTTL.
func (a *api) forgetSecret(c group.BotChange) {
	if c.Secrets&group.RobotSecret == 0 {
		return
	}
	a.secrets.mu.Lock()
	delete(a.secrets.m, c.BotID)
	a.secrets.mu.Unlock()
}
