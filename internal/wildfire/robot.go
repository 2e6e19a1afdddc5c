package wildfire

import (
	"github.com/qun-chat/qun/internal/group"
)

// The Robot API's own calls: messages, the robot's profile and its callback.

// sendBody is the body of message/send.
type sendBody struct {
	Sender  flexString       `json:"sender"` // Admin API only; a robot always sends as itself
	Conv    *convIn          `json:"conv"`
	Payload *payloadIn       `json:"payload"`
	ToUsers list[flexString] `json:"toUsers"` // checked and ignored: qun serves group conversations only
}

// decodeSend decodes a message/send body into the service's input. conv,
// conv.type and payload are required.
func decodeSend(r *request) (group.SendInput, error) {
	var body sendBody
	if err := r.decode(&body); err != nil {
		return group.SendInput{}, err
	}
	switch {
	case body.Conv == nil:
		return group.SendInput{}, invalid("conv is missing")
	case body.Conv.Type == nil:
		return group.SendInput{}, invalid("conv.type is missing")
	case body.Payload == nil:
		return group.SendInput{}, invalid("payload is missing")
	}
	if _, err := body.ToUsers.decode("toUsers", r.perCall); err != nil {
		return group.SendInput{}, err
	}
	p, err := body.Payload.domain("payload", r.perCall)
	if err != nil {
		return group.SendInput{}, err
	}
	return group.SendInput{
		Sender:   string(body.Sender),
		ConvType: int(*body.Conv.Type),
		Target:   string(body.Conv.Target),
		Line:     int(body.Conv.Line),
		Payload:  p,
	}, nil
}

// robotSendMessage serves /robot/message/send: {conv:{type,target,line},
// payload} → {messageUid, timestamp}. The sender is the robot, whatever the
// body says; notification content types are refused (251).
func (a *api) robotSendMessage(r *request) (any, error) {
	in, err := decodeSend(r)
	if err != nil {
		return nil, err
	}
	in.Sender, in.System = r.robot, false
	m, err := a.svc.SendMessage(r.ctx, in)
	if err != nil {
		return nil, err
	}
	return sendResultJSON{MessageUID: m.UID, Timestamp: millis(m.CreatedAt)}, nil
}

// robotProfile serves /robot/profile: the robot's OutputRobot, without its
// secret (as the community server; the docs claim otherwise). It reads no
// body, which makes it the cheapest signed call.
func (a *api) robotProfile(r *request) (any, error) {
	u, b, err := a.svc.GetRobot(r.ctx, r.robot)
	if err != nil {
		return nil, err
	}
	return newRobotJSON(u, b), nil
}

// getUserInfo serves /robot/user_info and /admin/user/get_info: {userId?,
// name?, mobile?}, the first non-empty in that order → the user, never its
// password.
func (a *api) getUserInfo(r *request) (any, error) {
	var body struct {
		UserID flexString `json:"userId"`
		Name   flexString `json:"name"`
		Mobile flexString `json:"mobile"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	u, err := a.svc.FindUser(r.ctx, group.UserQuery{UserID: string(body.UserID), Name: string(body.Name), Mobile: string(body.Mobile)})
	if err != nil {
		return nil, err
	}
	return newUserJSON(u), nil
}

// robotUpdateProfile serves /robot/update_profile: {intValue, strValue} as
// the community server, Java and Python SDKs send it. The docs' {type,
// value} and the JS SDK's {first, second} are taken too, so every SDK works.
// The field number is required.
func (a *api) robotUpdateProfile(r *request) (any, error) {
	var body struct {
		IntValue *flexInt   `json:"intValue"`
		Type     *flexInt   `json:"type"`
		First    *flexInt   `json:"first"`
		StrValue flexString `json:"strValue"`
		Value    flexString `json:"value"`
		Second   flexString `json:"second"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	field := body.IntValue
	if field == nil {
		field = body.Type
	}
	if field == nil {
		field = body.First
	}
	if field == nil {
		return nil, invalid("intValue (or type, first) is missing")
	}
	return nil, a.svc.UpdateProfile(r.ctx, r.robot, int(*field), firstOf(body.StrValue, body.Value, body.Second))
}

// urlBody is the body and result of the callback calls.
type urlBody struct {
	URL flexString `json:"url"`
}

// robotSetCallback serves /robot/set_callback: {url}; an empty url is 251.
// Wildfire updates only when the robot's state is not 1 yet (a quirk); qun
// always sets it.
func (a *api) robotSetCallback(r *request) (any, error) {
	var body urlBody
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	if body.URL == "" {
		return nil, invalid("url is missing")
	}
	return nil, a.setCallback(r.ctx, r.robot, string(body.URL))
}

// callbackResult is the result of /robot/get_callback.
type callbackResult struct {
	URL string `json:"url"`
}

// robotGetCallback serves /robot/get_callback → {url}.
func (a *api) robotGetCallback(r *request) (any, error) {
	_, b, err := a.svc.GetRobot(r.ctx, r.robot)
	if err != nil {
		return nil, err
	}
	return callbackResult{URL: b.Callback}, nil
}

// robotDeleteCallback serves /robot/delete_callback: clears the callback.
func (a *api) robotDeleteCallback(r *request) (any, error) {
	return nil, a.setCallback(r.ctx, r.robot, "")
}
