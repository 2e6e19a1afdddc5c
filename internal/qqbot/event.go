package qqbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// intentGroupAndC2C is GROUP_AND_C2C_EVENT (1<<25): every group event needs it.
const intentGroupAndC2C = 1 << 25

// msgIDPrefix starts every message id, as on the real platform.
const msgIDPrefix = "ROBOT1.0_"

// dispatch is an op 0 frame. s is always present (botpy reads it unconditionally).
type dispatch struct {
	Op int    `json:"op"`
	S  int64  `json:"s"`
	T  string `json:"t"`
	ID string `json:"id,omitempty"`
	D  any    `json:"d"`
}

// groupEventData is the d of GROUP_ADD_ROBOT, GROUP_DEL_ROBOT,
// GROUP_MSG_REJECT and GROUP_MSG_RECEIVE.
type groupEventData struct {
	GroupOpenID    string `json:"group_openid"`
	OpMemberOpenID string `json:"op_member_openid"`
	Timestamp      int64  `json:"timestamp"` // unix seconds
}

// atMessageData is the d of GROUP_AT_MESSAGE_CREATE. botgo reads group_id and
// author.id, botpy group_openid and author.member_openid: both are sent.
type atMessageData struct {
	Author      messageAuthor `json:"author"`
	Content     string        `json:"content"`
	GroupID     string        `json:"group_id"`
	GroupOpenID string        `json:"group_openid"`
	ID          string        `json:"id"`
	Timestamp   string        `json:"timestamp"` // RFC3339
	Attachments []struct{}    `json:"attachments"`
}

type messageAuthor struct {
	ID           string `json:"id"`
	MemberOpenID string `json:"member_openid"`
	UnionOpenID  string `json:"union_openid"`
}

// renderEvent turns one event of the log into its dispatch frame for the bot
// whose user is bot. r reads the mentioning message of an at-event.
func (s *Server) renderEvent(r group.Reader, ids *openIDs, bot group.User, e group.Event) (dispatch, error) {
	d := dispatch{Op: opDispatch, S: e.Seq, T: string(e.Type), ID: s.eventID(e.BotID, e.Type, e.Seq)}
	groupOpenID := ids.id(group.OpenIDGroup, e.GroupID)
	if e.Type != group.EventAtMessage {
		d.D = groupEventData{
			GroupOpenID:    groupOpenID,
			OpMemberOpenID: ids.id(group.OpenIDMember, e.OperatorID),
			Timestamp:      e.CreatedAt.Unix(),
		}
		return d, nil
	}
	sender, content, at := e.OperatorID, "", e.CreatedAt
	m, err := r.Message(e.MessageUID)
	if err == nil {
		sender, at = m.Sender, m.CreatedAt
		content = m.Payload.SearchableContent
		if content == "" {
			content = m.Payload.Content
		}
		content = stripMention(content, bot.DisplayName, bot.Name)
	} else if !group.IsNotExist(err) {
		return dispatch{}, err
	}
	member := ids.id(group.OpenIDMember, sender)
	d.D = atMessageData{
		Author:      messageAuthor{ID: member, MemberOpenID: member},
		Content:     content,
		GroupID:     groupOpenID,
		GroupOpenID: groupOpenID,
		ID:          s.msgID(e.BotID, e.MessageUID),
		Timestamp:   at.Format(time.RFC3339),
		Attachments: []struct{}{},
	}
	return d, nil
}

// stripMention removes a leading "@name" of the first name that matches,
// keeping what follows (QQ leaves the space after the mention).
func stripMention(content string, names ...string) string {
	for _, n := range names {
		if n == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(content, "@"+n); ok {
			return rest
		}
	}
	return content
}

// idTag authenticates an id qun hands out: the first n bytes of
// HMAC-SHA256(key, what 0x00 botID 0x00 value), so that a made-up or mangled
// id is refused instead of naming something by accident.
func (s *Server) idTag(what, botID string, value []byte, n int) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(what))
	m.Write([]byte{0})
	m.Write([]byte(botID))
	m.Write([]byte{0})
	m.Write(value)
	return m.Sum(nil)[:n]
}

// eventID returns the frame id of a bot's event: "<TYPE>:<24 lower-case hex>"
// encoding the event's seq; it is accepted back as event_id.
func (s *Server) eventID(botID string, t group.EventType, seq int64) string {
	v := binary.BigEndian.AppendUint64(nil, uint64(seq))
	return string(t) + ":" + hex.EncodeToString(append(v, s.idTag("event", botID, v, 4)...))
}

// parseEventID returns the seq an event_id of botID names; "<TYPE>:" may be omitted.
func (s *Server) parseEventID(botID, id string) (int64, bool) {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 12 || !hmac.Equal(b[8:], s.idTag("event", botID, b[:8], 4)) {
		return 0, false
	}
	seq := int64(binary.BigEndian.Uint64(b[:8]))
	return seq, seq > 0
}

// msgID returns the id botID sees for a timeline message: "ROBOT1.0_" and 22
// URL-safe base64 characters encoding its uid.
func (s *Server) msgID(botID string, uid int64) string {
	v := binary.BigEndian.AppendUint64(nil, uint64(uid))
	return msgIDPrefix + base64.RawURLEncoding.EncodeToString(append(v, s.idTag("msg", botID, v, 8)...))
}

// parseMsgID returns the message uid a msg_id of botID names.
func (s *Server) parseMsgID(botID, id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, msgIDPrefix)
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != 16 || !hmac.Equal(b[8:], s.idTag("msg", botID, b[:8], 8)) {
		return 0, false
	}
	uid := int64(binary.BigEndian.Uint64(b[:8]))
	return uid, uid > 0
}
