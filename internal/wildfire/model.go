package wildfire

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// This file holds Wildfire's JSON models with their exact gson field names:
// the *In types as clients send them (flex fields, see flex.go) and the *JSON
// types as the server writes them. gson omits null fields and always writes
// numbers and booleans; where Wildfire's value would be a null string the
// output omits an empty one (payloads), elsewhere empty strings are written
// as Wildfire's stored rows have them.

// payloadIn is a MessagePayload as a client sends it.
type payloadIn struct {
	Type              flexInt          `json:"type"`
	SearchableContent flexString       `json:"searchableContent"`
	PushContent       flexString       `json:"pushContent"`
	PushData          flexString       `json:"pushData"`
	Content           flexString       `json:"content"`
	Base64edData      flexString       `json:"base64edData"`
	MediaType         flexInt          `json:"mediaType"`
	RemoteMediaURL    flexString       `json:"remoteMediaUrl"`
	PersistFlag       flexInt          `json:"persistFlag"`
	ExpireDuration    flexInt          `json:"expireDuration"`
	MentionedType     flexInt          `json:"mentionedType"`
	MentionedTarget   list[flexString] `json:"mentionedTarget"`
	Extra             flexString       `json:"extra"`
}

// domain converts p, the payload named field; bad base64 or more than
// maxMentions mentioned targets is a 251.
func (p *payloadIn) domain(field string, maxMentions int) (group.Payload, error) {
	data, err := decodeBase64(string(p.Base64edData))
	if err != nil {
		return group.Payload{}, invalid("%s.base64edData is not base64", field)
	}
	mentioned, err := flexStrings(field+".mentionedTarget", p.MentionedTarget, maxMentions)
	if err != nil {
		return group.Payload{}, err
	}
	return group.Payload{
		Type:              int(p.Type),
		SearchableContent: string(p.SearchableContent),
		PushContent:       string(p.PushContent),
		PushData:          string(p.PushData),
		Content:           string(p.Content),
		Data:              data,
		MediaType:         int(p.MediaType),
		RemoteMediaURL:    string(p.RemoteMediaURL),
		PersistFlag:       int(p.PersistFlag),
		ExpireDuration:    int(p.ExpireDuration),
		MentionedType:     int(p.MentionedType),
		MentionedTarget:   mentioned,
		Extra:             string(p.Extra),
	}, nil
}

// decodeBase64 decodes standard base64 with or without padding, as Java's
// Base64.getDecoder does.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// payloadJSON is a MessagePayload as the server writes it.
type payloadJSON struct {
	Type              int      `json:"type"`
	SearchableContent string   `json:"searchableContent,omitempty"`
	PushContent       string   `json:"pushContent,omitempty"`
	PushData          string   `json:"pushData,omitempty"`
	Content           string   `json:"content,omitempty"`
	Base64edData      string   `json:"base64edData,omitempty"`
	MediaType         int      `json:"mediaType"`
	RemoteMediaURL    string   `json:"remoteMediaUrl,omitempty"`
	PersistFlag       int      `json:"persistFlag"`
	ExpireDuration    int      `json:"expireDuration"`
	MentionedType     int      `json:"mentionedType"`
	MentionedTarget   []string `json:"mentionedTarget,omitempty"`
	Extra             string   `json:"extra,omitempty"`
}

func newPayloadJSON(p group.Payload) payloadJSON {
	out := payloadJSON{
		Type:              p.Type,
		SearchableContent: p.SearchableContent,
		PushContent:       p.PushContent,
		PushData:          p.PushData,
		Content:           p.Content,
		MediaType:         p.MediaType,
		RemoteMediaURL:    p.RemoteMediaURL,
		PersistFlag:       p.PersistFlag,
		ExpireDuration:    p.ExpireDuration,
		MentionedType:     p.MentionedType,
		MentionedTarget:   p.MentionedTarget,
		Extra:             p.Extra,
	}
	if len(p.Data) > 0 {
		out.Base64edData = base64.StdEncoding.EncodeToString(p.Data)
	}
	return out
}

// groupInfoIn is a GroupInfo as a client sends it.
type groupInfoIn struct {
	TargetID       flexString `json:"target_id"`
	Name           flexString `json:"name"`
	Portrait       flexString `json:"portrait"`
	Owner          flexString `json:"owner"`
	Type           flexInt    `json:"type"`
	Extra          flexString `json:"extra"`
	Mute           flexInt    `json:"mute"`
	JoinType       flexInt    `json:"join_type"`
	PrivateChat    flexInt    `json:"private_chat"`
	Searchable     flexInt    `json:"searchable"`
	MaxMemberCount flexInt    `json:"max_member_count"`
	HistoryMessage flexInt    `json:"history_message"`
	SuperGroup     flexBool   `json:"super_group"`
}

func (g *groupInfoIn) domain() group.Group {
	return group.Group{
		ID:             string(g.TargetID),
		Name:           string(g.Name),
		Portrait:       string(g.Portrait),
		Owner:          string(g.Owner),
		Type:           int(g.Type),
		Extra:          string(g.Extra),
		Mute:           int(g.Mute),
		JoinType:       int(g.JoinType),
		PrivateChat:    int(g.PrivateChat),
		Searchable:     int(g.Searchable),
		MaxMemberCount: int(g.MaxMemberCount),
		HistoryMessage: int(g.HistoryMessage),
		SuperGroup:     bool(g.SuperGroup),
	}
}

// groupInfoJSON is a GroupInfo as the server writes it: every field, always.
// Unlike Wildfire's robot get_info, which leaves max_member_count,
// history_message and super_group at 0/false, the stored values are written.
type groupInfoJSON struct {
	TargetID       string `json:"target_id"`
	Name           string `json:"name"`
	Portrait       string `json:"portrait"`
	Owner          string `json:"owner"`
	Type           int    `json:"type"`
	Extra          string `json:"extra"`
	Mute           int    `json:"mute"`
	JoinType       int    `json:"join_type"`
	PrivateChat    int    `json:"private_chat"`
	Searchable     int    `json:"searchable"`
	MaxMemberCount int    `json:"max_member_count"`
	HistoryMessage int    `json:"history_message"`
	SuperGroup     bool   `json:"super_group"`
}

func newGroupInfoJSON(g group.Group) groupInfoJSON {
	return groupInfoJSON{
		TargetID:       g.ID,
		Name:           g.Name,
		Portrait:       g.Portrait,
		Owner:          g.Owner,
		Type:           g.Type,
		Extra:          g.Extra,
		Mute:           g.Mute,
		JoinType:       g.JoinType,
		PrivateChat:    g.PrivateChat,
		Searchable:     g.Searchable,
		MaxMemberCount: g.MaxMemberCount,
		HistoryMessage: g.HistoryMessage,
		SuperGroup:     g.SuperGroup,
	}
}

// memberIn is a GroupMember as a client sends it. Its type and createDt are
// read for leniency and ignored: the domain decides member types.
type memberIn struct {
	MemberID flexString `json:"member_id"`
	Alias    flexString `json:"alias"`
	Type     flexInt    `json:"type"`
	Extra    flexString `json:"extra"`
	CreateDt flexLong   `json:"createDt"`
}

// membersDomain converts members; extra, when not empty, is the extra of
// every member that has none (the member_extra of the JS SDK and the docs).
func membersDomain(ms []memberIn, extra string) []group.Member {
	out := make([]group.Member, len(ms))
	for i, m := range ms {
		out[i] = group.Member{UserID: string(m.MemberID), Alias: string(m.Alias), Extra: string(m.Extra)}
		if out[i].Extra == "" {
			out[i].Extra = extra
		}
	}
	return out
}

// memberJSON is a GroupMember as the server writes it.
type memberJSON struct {
	MemberID string `json:"member_id"`
	Alias    string `json:"alias"`
	Type     int    `json:"type"`
	Extra    string `json:"extra"`
	CreateDt int64  `json:"createDt"`
}

func newMemberJSON(m group.Member) memberJSON {
	return memberJSON{MemberID: m.UserID, Alias: m.Alias, Type: m.Type, Extra: m.Extra, CreateDt: millis(m.JoinedAt)}
}

// millis returns t in Unix milliseconds, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// convIn is a Conversation as a client sends it.
type convIn struct {
	Type   *flexInt   `json:"type"`
	Target flexString `json:"target"`
	Line   flexInt    `json:"line"`
}

// userInfoIn is an InputOutputUserInfo as a client sends it.
type userInfoIn struct {
	UserID      flexString `json:"userId"`
	Name        flexString `json:"name"`
	Password    flexString `json:"password"`
	DisplayName flexString `json:"displayName"`
	Portrait    flexString `json:"portrait"`
	Gender      flexInt    `json:"gender"`
	Mobile      flexString `json:"mobile"`
	Email       flexString `json:"email"`
	Address     flexString `json:"address"`
	Company     flexString `json:"company"`
	Social      flexString `json:"social"`
	Extra       flexString `json:"extra"`
	Type        flexInt    `json:"type"` // ignored: the domain keeps a user's type
}

func (u *userInfoIn) domain() group.User {
	return group.User{
		ID:          string(u.UserID),
		Name:        string(u.Name),
		Password:    string(u.Password),
		DisplayName: string(u.DisplayName),
		Portrait:    string(u.Portrait),
		Gender:      int(u.Gender),
		Mobile:      string(u.Mobile),
		Email:       string(u.Email),
		Address:     string(u.Address),
		Company:     string(u.Company),
		Social:      string(u.Social),
		Extra:       string(u.Extra),
	}
}

// userJSON is an InputOutputUserInfo as the server writes it. The password
// is never written, by either door.
type userJSON struct {
	UserID      string `json:"userId"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Portrait    string `json:"portrait"`
	Gender      int    `json:"gender"`
	Mobile      string `json:"mobile"`
	Email       string `json:"email"`
	Address     string `json:"address"`
	Company     string `json:"company"`
	Social      string `json:"social"`
	Extra       string `json:"extra"`
	Type        int    `json:"type"`
	UpdateDt    int64  `json:"updateDt"`
}

func newUserJSON(u group.User) userJSON {
	return userJSON{
		UserID:      u.ID,
		Name:        u.Name,
		DisplayName: u.DisplayName,
		Portrait:    u.Portrait,
		Gender:      u.Gender,
		Mobile:      u.Mobile,
		Email:       u.Email,
		Address:     u.Address,
		Company:     u.Company,
		Social:      u.Social,
		Extra:       u.Extra,
		Type:        u.Type,
		UpdateDt:    millis(u.UpdatedAt),
	}
}

// robotJSON is an OutputRobot without its secret, as /robot/profile writes it.
type robotJSON struct {
	userJSON
	Owner      string `json:"owner"`
	Callback   string `json:"callback"`
	RobotExtra string `json:"robotExtra"`
}

func newRobotJSON(u group.User, b group.Bot) robotJSON {
	return robotJSON{userJSON: newUserJSON(u), Owner: b.Owner, Callback: b.Callback, RobotExtra: b.RobotExtra}
}

// robotInfoJSON is what /admin/user/get_robot_info writes: the OutputRobot
// with its secret, plus qun's Bot Open Platform credentials and ice-breaker.
type robotInfoJSON struct {
	robotJSON
	Secret     string         `json:"secret"`
	AppID      string         `json:"appId"`
	AppSecret  string         `json:"appSecret"`
	Intents    int64          `json:"intents"` // allowed on the gateway; 0: the default set
	IceBreaker iceBreakerJSON `json:"iceBreaker"`
	Webhook    *webhookJSON   `json:"webhook,omitempty"` // the QQ webhook, when deliveries are served
}

type iceBreakerJSON struct {
	Enabled bool         `json:"enabled"`
	Payload *payloadJSON `json:"payload,omitempty"`
}

func newRobotInfoJSON(u group.User, b group.Bot) robotInfoJSON {
	out := robotInfoJSON{
		robotJSON:  newRobotJSON(u, b),
		Secret:     b.Secret,
		AppID:      b.AppID,
		AppSecret:  b.AppSecret,
		Intents:    b.Intents,
		IceBreaker: iceBreakerJSON{Enabled: b.IceBreaker.Enabled},
	}
	if b.IceBreaker.Payload.Type > 0 {
		p := newPayloadJSON(b.IceBreaker.Payload)
		out.IceBreaker.Payload = &p
	}
	return out
}

// messageJSON is one timeline entry as /admin/group/messages writes it.
type messageJSON struct {
	Seq        int64       `json:"seq"`
	MessageUID int64       `json:"messageUid"`
	Sender     string      `json:"sender"`
	Line       int         `json:"line"`
	Payload    payloadJSON `json:"payload"`
	Timestamp  int64       `json:"timestamp"`
}

// sendResultJSON is the result of message/send.
type sendResultJSON struct {
	MessageUID int64 `json:"messageUid"`
	Timestamp  int64 `json:"timestamp"`
}
