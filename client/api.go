package client

import (
	"context"
	"slices"
)

// The typed calls. Group calls and SendMessage go to /admin/... on an Admin
// client and to /robot/... on a robot client (the bodies are the same; a
// robot always acts as itself). The others are Admin API calls only. Calls
// without a helper go through Call.

// Payload types this package names (Wildfire content types).
const (
	TextMessage = 1 // a text message: SearchableContent is the text
)

// Mention types (Wildfire MessagePayload.mentionedType).
const (
	MentionSome = 1 // the users in MentionedTarget
	MentionAll  = 2 // everyone in the group
)

// User is a user as the Admin API writes it (Wildfire InputOutputUserInfo).
// UserID empty on CreateUser asks qun to generate one.
type User struct {
	UserID      string `json:"userId"`
	Name        string `json:"name"`
	Password    string `json:"password,omitempty"` // sent only; qun never returns it
	DisplayName string `json:"displayName"`
	Portrait    string `json:"portrait"`
	Gender      int    `json:"gender"`
	Mobile      string `json:"mobile"`
	Email       string `json:"email"`
	Address     string `json:"address"`
	Company     string `json:"company"`
	Social      string `json:"social"`
	Extra       string `json:"extra"`
	Type        int    `json:"type"`     // written by qun: 0 a user, 1 a robot
	UpdateDt    int64  `json:"updateDt"` // written by qun, Unix ms
}

// Robot is a robot as /admin/user/get_robot_info writes it: the user, its
// Wildfire secret, its Bot Open Platform credentials, its ice-breaker and
// its QQ webhook.
type Robot struct {
	User
	Owner      string     `json:"owner"`
	Callback   string     `json:"callback"`
	RobotExtra string     `json:"robotExtra"`
	Secret     string     `json:"secret"`
	AppID      string     `json:"appId"`
	AppSecret  string     `json:"appSecret"`
	Intents    int64      `json:"intents"` // allowed on the gateway; 0: qun's default set
	IceBreaker IceBreaker `json:"iceBreaker"`
	Webhook    Webhook    `json:"webhook"` // the bot's QQ webhook; URL "" when none
}

// RobotCredentials is the result of CreateRobot: the robot's id and
// Wildfire secret, and the appId and appSecret its QQ bot SDKs log in with.
type RobotCredentials struct {
	UserID    string `json:"userId"`
	Secret    string `json:"secret"`
	AppID     string `json:"appId"`
	AppSecret string `json:"appSecret"`
}

// IceBreaker is the message a robot posts into every group it joins.
type IceBreaker struct {
	Enabled bool     `json:"enabled"`
	Payload *Payload `json:"payload,omitempty"`
}

// Payload is a message's content (Wildfire MessagePayload).
type Payload struct {
	Type              int      `json:"type"`
	SearchableContent string   `json:"searchableContent,omitempty"`
	PushContent       string   `json:"pushContent,omitempty"`
	PushData          string   `json:"pushData,omitempty"`
	Content           string   `json:"content,omitempty"`
	Data              []byte   `json:"base64edData,omitempty"`
	MediaType         int      `json:"mediaType"`
	RemoteMediaURL    string   `json:"remoteMediaUrl,omitempty"`
	PersistFlag       int      `json:"persistFlag"`
	ExpireDuration    int      `json:"expireDuration"`
	MentionedType     int      `json:"mentionedType"`
	MentionedTarget   []string `json:"mentionedTarget,omitempty"`
	Extra             string   `json:"extra,omitempty"`
}

// Text returns a text message payload.
func Text(s string) Payload {
	return Payload{Type: TextMessage, SearchableContent: s}
}

// Mention returns p mentioning userIDs (a bot mentioned this way gets a
// GROUP_AT_MESSAGE_CREATE event); no ids leaves p as it is.
func (p Payload) Mention(userIDs ...string) Payload {
	if len(userIDs) > 0 {
		p.MentionedType = MentionSome
		p.MentionedTarget = append(slices.Clone(p.MentionedTarget), userIDs...)
	}
	return p
}

// GroupInfo is a group's profile and settings (Wildfire GroupInfo). On
// CreateGroup through the Admin API without an operator, Owner is the owner.
type GroupInfo struct {
	TargetID       string `json:"target_id"`
	Name           string `json:"name"`
	Portrait       string `json:"portrait"`
	Owner          string `json:"owner"`
	Type           int    `json:"type"` // 0 normal, 1 free, 2 restricted, 3 organisation
	Extra          string `json:"extra"`
	Mute           int    `json:"mute"`
	JoinType       int    `json:"join_type"`
	PrivateChat    int    `json:"private_chat"`
	Searchable     int    `json:"searchable"`
	MaxMemberCount int    `json:"max_member_count"`
	HistoryMessage int    `json:"history_message"`
	SuperGroup     bool   `json:"super_group"`
}

// Member is a group member (Wildfire GroupMember). Type and CreateDt are
// written by qun and ignored when sent.
type Member struct {
	MemberID string `json:"member_id"`
	Alias    string `json:"alias"`
	Type     int    `json:"type"` // 0 normal, 1 manager, 2 owner, 3 silent, 4 removed, 5 allowed
	Extra    string `json:"extra"`
	CreateDt int64  `json:"createDt"`
}

// Sent is the result of SendMessage.
type Sent struct {
	MessageUID int64 `json:"messageUid"`
	Timestamp  int64 `json:"timestamp"` // Unix ms
}

// Message is one entry of a group's timeline: a chat message or a notification.
type Message struct {
	Seq        int64   `json:"seq"`
	MessageUID int64   `json:"messageUid"`
	Sender     string  `json:"sender"`
	Line       int     `json:"line"`
	Payload    Payload `json:"payload"`
	Timestamp  int64   `json:"timestamp"` // Unix ms
}

// TimelineQuery selects a page of a group's timeline: the messages of Line
// after seq After, at most Limit of them (0: qun's default page, 100; at most 500).
type TimelineQuery struct {
	GroupID string `json:"group_id"`
	Line    int    `json:"line,omitempty"`
	After   int64  `json:"after,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// Timeline is a page of a group's timeline. Next is the After of the next
// page, 0 when this page is the last.
type Timeline struct {
	Messages []Message `json:"messages"`
	Next     int64     `json:"next"`
}

// door returns the path prefix of c's API: /robot when it signs as a robot.
func (c *Client) door() string {
	if c.RobotID != "" {
		return "/robot"
	}
	return "/admin"
}

// call is Call without the code, which the error carries.
func (c *Client) call(ctx context.Context, path string, body, result any) error {
	_, err := c.Call(ctx, path, body, result)
	return err
}

// CreateUser creates or updates a user (Name is required) and returns its id.
func (c *Client) CreateUser(ctx context.Context, u User) (string, error) {
	var res struct {
		UserID string `json:"userId"`
	}
	err := c.call(ctx, "/admin/user/create", u, &res)
	return res.UserID, err
}

// GetUser returns a user.
func (c *Client) GetUser(ctx context.Context, userID string) (User, error) {
	var u User
	err := c.call(ctx, "/admin/user/get_info", map[string]string{"userId": userID}, &u)
	return u, err
}

// CreateRobot creates or updates a robot from r's user fields, Owner,
// Secret (empty: kept, or generated), Callback and RobotExtra; Name is
// required. It returns the robot's credentials.
func (c *Client) CreateRobot(ctx context.Context, r Robot) (RobotCredentials, error) {
	body := struct {
		User
		Owner      string `json:"owner"`
		Secret     string `json:"secret"`
		Callback   string `json:"callback"`
		RobotExtra string `json:"robotExtra"`
	}{r.User, r.Owner, r.Secret, r.Callback, r.RobotExtra}
	var res RobotCredentials
	err := c.call(ctx, "/admin/robot/create", body, &res)
	return res, err
}

// GetRobot returns a robot with its secrets.
func (c *Client) GetRobot(ctx context.Context, robotID string) (Robot, error) {
	var r Robot
	err := c.call(ctx, "/admin/user/get_robot_info", map[string]string{"robotId": robotID}, &r)
	return r, err
}

// SetIceBreaker sets the message the robot posts into every group it joins
// from now on; Enabled false turns it off.
func (c *Client) SetIceBreaker(ctx context.Context, robotID string, ib IceBreaker) error {
	body := struct {
		RobotID string `json:"robotId"`
		IceBreaker
	}{robotID, ib}
	return c.call(ctx, "/admin/robot/ice_breaker", body, nil)
}

// Which secrets ResetSecret renews.
const (
	SecretRobot = "robot" // the Wildfire robot secret
	SecretApp   = "app"   // the QQ appSecret; the bot's access tokens are revoked with it
	SecretBoth  = "both"
)

// NewSecrets is the result of ResetSecret: the secrets renewed, "" (and
// left out of its JSON, as the Admin API leaves it out) for one kept.
type NewSecrets struct {
	RobotID   string `json:"robotId"`
	Secret    string `json:"secret,omitempty"`
	AppSecret string `json:"appSecret,omitempty"`
}

// ResetSecret gives a robot a new robot secret, appSecret or both (which is
// SecretRobot, SecretApp or SecretBoth). The old secret stops working, and a
// new appSecret revokes the access tokens issued with the old one.
func (c *Client) ResetSecret(ctx context.Context, robotID, which string) (NewSecrets, error) {
	var res NewSecrets
	err := c.call(ctx, "/admin/robot/reset_secret", map[string]string{"robotId": robotID, "which": which}, &res)
	return res, err
}

// SetIntents sets the intents a bot may ask for on the QQ gateway (0: qun's
// default set) and returns the stored value.
func (c *Client) SetIntents(ctx context.Context, robotID string, intents int64) (int64, error) {
	body := struct {
		RobotID string `json:"robotId"`
		Intents int64  `json:"intents"`
	}{robotID, intents}
	var res struct {
		Intents int64 `json:"intents"`
	}
	err := c.call(ctx, "/admin/robot/intents", body, &res)
	return res.Intents, err
}

// CreateGroup creates a group with members and returns its id (info.TargetID,
// or a generated one). It acts as operator; on the Admin API an empty
// operator is the server itself and info.Owner becomes the owner.
func (c *Client) CreateGroup(ctx context.Context, operator string, info GroupInfo, members []Member) (string, error) {
	if members == nil {
		members = []Member{}
	}
	type groupBody struct {
		GroupInfo GroupInfo `json:"group_info"`
		Members   []Member  `json:"members"`
	}
	body := struct {
		Operator string    `json:"operator,omitempty"`
		Group    groupBody `json:"group"`
	}{operator, groupBody{info, members}}
	var res struct {
		GroupID string `json:"group_id"`
	}
	err := c.call(ctx, c.door()+"/group/create", body, &res)
	return res.GroupID, err
}

// GetGroup returns a group's profile and settings.
func (c *Client) GetGroup(ctx context.Context, groupID string) (GroupInfo, error) {
	var g GroupInfo
	err := c.call(ctx, c.door()+"/group/get_info", map[string]string{"group_id": groupID}, &g)
	return g, err
}

// Members returns a group's members, as operator sees them.
func (c *Client) Members(ctx context.Context, operator, groupID string) ([]Member, error) {
	var res struct {
		Members []Member `json:"members"`
	}
	err := c.call(ctx, c.door()+"/group/member/list", memberIDsBody{Operator: operator, GroupID: groupID}, &res)
	return res.Members, err
}

// AddMembers adds members to a group, acting as operator.
func (c *Client) AddMembers(ctx context.Context, operator, groupID string, members []Member) error {
	body := struct {
		Operator string   `json:"operator,omitempty"`
		GroupID  string   `json:"group_id"`
		Members  []Member `json:"members"`
	}{operator, groupID, members}
	return c.call(ctx, c.door()+"/group/member/add", body, nil)
}

// KickMembers removes members from a group, acting as operator.
func (c *Client) KickMembers(ctx context.Context, operator, groupID string, memberIDs []string) error {
	return c.call(ctx, c.door()+"/group/member/del", memberIDsBody{Operator: operator, GroupID: groupID, Members: memberIDs}, nil)
}

// memberIDsBody is the body of the group calls that take member ids.
type memberIDsBody struct {
	Operator string   `json:"operator,omitempty"`
	GroupID  string   `json:"group_id"`
	Members  []string `json:"members,omitempty"`
}

// SendMessage sends p to a group's line 0 as sender (on a robot client the
// sender is the robot, whatever sender says).
func (c *Client) SendMessage(ctx context.Context, sender, groupID string, p Payload) (Sent, error) {
	type conv struct {
		Type   int    `json:"type"`
		Target string `json:"target"`
		Line   int    `json:"line"`
	}
	body := struct {
		Sender  string  `json:"sender,omitempty"`
		Conv    conv    `json:"conv"`
		Payload Payload `json:"payload"`
	}{sender, conv{Type: 1, Target: groupID}, p}
	var res Sent
	err := c.call(ctx, c.door()+"/message/send", body, &res)
	return res, err
}

// Messages reads a page of a group's timeline, in seq order.
func (c *Client) Messages(ctx context.Context, q TimelineQuery) (Timeline, error) {
	var res Timeline
	err := c.call(ctx, "/admin/group/messages", q, &res)
	return res, err
}
