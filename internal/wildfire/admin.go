package wildfire

import (
	"github.com/qun-chat/qun/internal/group"
)

// The Admin API's own calls: users, robots, messages, and qun's additions
// (ice-breaker, proactive switch, timeline).

// userIDResult is the result of /admin/user/create.
type userIDResult struct {
	UserID string `json:"userId"`
}

// createUser serves /admin/user/create: an InputOutputUserInfo (userId
// empty: generated) → {userId}. It creates or updates; name is required, as
// in Wildfire.
func (a *api) createUser(r *request) (any, error) {
	var body userInfoIn
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.Name == "" {
		return nil, invalid("name is missing")
	}
	u, err := a.svc.PutUser(r.ctx, body.domain())
	if err != nil {
		return nil, err
	}
	return userIDResult{UserID: u.ID}, nil
}

// robotCreatedResult is the result of /admin/robot/create: Wildfire's
// {userId, secret} plus the bot's Bot Open Platform credentials.
type robotCreatedResult struct {
	UserID    string `json:"userId"`
	Secret    string `json:"secret"`
	AppID     string `json:"appId"`
	AppSecret string `json:"appSecret"`
}

// createRobot serves /admin/robot/create: the user fields plus owner,
// secret (empty: kept, or generated), callback and robotExtra. Name is required.
func (a *api) createRobot(r *request) (any, error) {
	var body struct {
		userInfoIn
		Owner      flexString `json:"owner"`
		Secret     flexString `json:"secret"`
		Callback   flexString `json:"callback"`
		RobotExtra flexString `json:"robotExtra"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.Name == "" {
		return nil, invalid("name is missing")
	}
	if err := a.checkCallback(r.ctx, string(body.Callback)); err != nil {
		return nil, err
	}
	u, b, err := a.svc.CreateRobot(r.ctx, group.RobotInput{
		User:       body.domain(),
		Owner:      string(body.Owner),
		Secret:     string(body.Secret),
		Callback:   string(body.Callback),
		RobotExtra: string(body.RobotExtra),
	})
	if err != nil {
		return nil, err
	}
	if err := a.callbackSet(r.ctx, u.ID, b.Callback); err != nil {
		return nil, err
	}
	return robotCreatedResult{UserID: u.ID, Secret: b.Secret, AppID: b.AppID, AppSecret: b.AppSecret}, nil
}

// robotIDBody names a robot.
type robotIDBody struct {
	RobotID flexString `json:"robotId"`
}

// getRobotInfo serves /admin/user/get_robot_info: {robotId} → the robot with
// its secret, appId, appSecret and iceBreaker.
func (a *api) getRobotInfo(r *request) (any, error) {
	var body robotIDBody
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.RobotID == "" {
		return nil, invalid("robotId is missing")
	}
	u, b, err := a.svc.GetRobot(r.ctx, string(body.RobotID))
	if err != nil {
		return nil, err
	}
	out := newRobotInfoJSON(u, b)
	if a.deliveries != nil {
		w, err := a.deliveries.Webhook(r.ctx, u.ID)
		if err != nil {
			return nil, err
		}
		out.Webhook = &webhookJSON{URL: w.URL, Intents: w.Intents, Validated: w.Validated}
	}
	return out, nil
}

// setIceBreaker serves /admin/robot/ice_breaker: {robotId, enabled, payload}.
func (a *api) setIceBreaker(r *request) (any, error) {
	var body struct {
		robotIDBody
		Enabled flexBool   `json:"enabled"`
		Payload *payloadIn `json:"payload"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.RobotID == "" {
		return nil, invalid("robotId is missing")
	}
	ib := group.IceBreaker{Enabled: bool(body.Enabled)}
	if body.Payload != nil {
		p, err := body.Payload.domain("payload", r.perCall)
		if err != nil {
			return nil, err
		}
		ib.Payload = p
	}
	return nil, a.svc.SetIceBreaker(r.ctx, string(body.RobotID), ib)
}

// groupIDsResult is the result of /admin/group/of_user.
type groupIDsResult struct {
	GroupIDs []string `json:"groupIds"`
}

// groupsOfUser serves /admin/group/of_user: {userId} → {groupIds}.
func (a *api) groupsOfUser(r *request) (any, error) {
	var body struct {
		UserID flexString `json:"userId"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.UserID == "" {
		return nil, invalid("userId is missing")
	}
	ids, err := a.svc.GroupsOfUser(r.ctx, string(body.UserID))
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return groupIDsResult{GroupIDs: ids}, nil
}

// setProactive serves /admin/group/robot/proactive: {group_id, operator,
// robotId, allow}. allow is required.
func (a *api) setProactive(r *request) (any, error) {
	var body struct {
		groupRef
		robotIDBody
		Operator flexString `json:"operator"`
		Allow    *flexBool  `json:"allow"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	gid, err := body.id()
	if err != nil {
		return nil, err
	}
	if body.RobotID == "" {
		return nil, invalid("robotId is missing")
	}
	if body.Allow == nil {
		return nil, invalid("allow is missing")
	}
	return nil, a.svc.SetProactive(r.ctx, r.actor(body.Operator), gid, string(body.RobotID), bool(*body.Allow))
}

// timelineResult is the result of /admin/group/messages.
type timelineResult struct {
	Messages []messageJSON `json:"messages"`
	Next     int64         `json:"next"`
}

// groupMessages serves /admin/group/messages: {group_id, line?, after?,
// limit?} → {messages, next}; next is 0 when there are no more.
func (a *api) groupMessages(r *request) (any, error) {
	var body struct {
		groupRef
		Line  flexInt  `json:"line"`
		After flexLong `json:"after"`
		Limit flexInt  `json:"limit"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	gid, err := body.id()
	if err != nil {
		return nil, err
	}
	ms, next, err := a.svc.Timeline(r.ctx, gid, int(body.Line), int64(body.After), int(body.Limit))
	if err != nil {
		return nil, err
	}
	out := timelineResult{Messages: make([]messageJSON, len(ms)), Next: next}
	for i, m := range ms {
		out.Messages[i] = messageJSON{
			Seq:        m.Seq,
			MessageUID: m.UID,
			Sender:     m.Sender,
			Line:       m.Line,
			Payload:    newPayloadJSON(m.Payload),
			Timestamp:  millis(m.CreatedAt),
		}
	}
	return out, nil
}

// adminSendMessage serves /admin/message/send: {sender, conv, payload} →
// {messageUid, timestamp}. The admin may post notification content types.
func (a *api) adminSendMessage(r *request) (any, error) {
	in, err := decodeSend(r)
	if err != nil {
		return nil, err
	}
	in.System = true
	m, err := a.svc.SendMessage(r.ctx, in)
	if err != nil {
		return nil, err
	}
	return sendResultJSON{MessageUID: m.UID, Timestamp: millis(m.CreatedAt)}, nil
}
