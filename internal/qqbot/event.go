package qqbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// intentGroupAndC2C is GROUP_AND_C2C_EVENT (1<<25): every group event needs it.
const intentGroupAndC2C = 1 << 25

// msgIDPrefix starts every message id, as on the real platform.
const msgIDPrefix = "ROBOT1.0_"

// dispatch is an op 0 frame. s is always present (botpy reads it
// unconditionally); it is wireSeq of the frame's log seq.
type dispatch struct {
	Op int    `json:"op"`
	S  int64  `json:"s"`
	T  string `json:"t"`
	ID string `json:"id,omitempty"`
	D  any    `json:"d"`

	seq int64 // an event's log seq
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

// eventSources is what rendering a burst of a bot's events reads besides
// the events: the bot's user (an at-event's content drops the mention of
// it) and the messages its at-events name, read in one query per burst.
type eventSources struct {
	bot     group.User
	readBot bool // bot was read (a missing user reads as the zero User)
	msgs    map[int64]group.Message
}

// readEventSources reads the sources of those of evs that want says are rendered.
func readEventSources(r group.Reader, botID string, evs []group.Event, want func(group.Event) bool) (eventSources, error) {
	var src eventSources
	var uids []int64
	for _, e := range evs {
		if e.Type == group.EventAtMessage && want(e) {
			uids = append(uids, e.MessageUID)
		}
	}
	if len(uids) == 0 {
		return src, nil
	}
	var err error
	if src.bot, err = r.User(botID); err != nil && !group.IsNotExist(err) {
		return src, err
	}
	src.readBot = true
	ms, err := r.MessagesOf(uids)
	if err != nil {
		return src, err
	}
	src.msgs = make(map[int64]group.Message, len(ms))
	for _, m := range ms {
		src.msgs[m.UID] = m
	}
	return src, nil
}

// renderEvent turns one event of the log into its dispatch frame for the
// bot. groupOpenID is the bot's openid of e.GroupID, which the caller keeps;
// src holds the event's message if it is an at-event (readEventSources).
func (s *Server) renderEvent(src *eventSources, ids *openIDs, e group.Event, groupOpenID string) dispatch {
	d := dispatch{Op: opDispatch, S: wireSeq(e.Seq), T: string(e.Type), ID: s.eventID(e.BotID, e.Type, e.Seq), seq: e.Seq}
	ids.add(group.OpenIDGroup, e.GroupID, groupOpenID)
	if e.Type != group.EventAtMessage {
		d.D = groupEventData{
			GroupOpenID:    groupOpenID,
			OpMemberOpenID: ids.id(group.OpenIDMember, e.OperatorID),
			Timestamp:      e.CreatedAt.Unix(),
		}
		return d
	}
	sender, content, at := e.OperatorID, "", e.CreatedAt
	if m, ok := src.msgs[e.MessageUID]; ok {
		sender, at = m.Sender, m.CreatedAt
		content = m.Payload.SearchableContent
		if content == "" {
			content = m.Payload.Content
		}
		content = stripMention(content, src.bot.DisplayName, src.bot.Name)
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
	return d
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

// macState is an HMAC-SHA256 keyed with the server's key and a scratch
// buffer, reused through Server.macs: keying an HMAC costs two hash blocks
// and several allocations, and every event frame needs a few MACs.
type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// mac returns HMAC-SHA256(key, a 0x00 b 0x00 c).
func (s *Server) mac(a, b, c string) (sum [sha256.Size]byte) {
	m, _ := s.macs.Get().(*macState)
	if m == nil {
		m = &macState{h: hmac.New(sha256.New, s.key)}
	} else {
		m.h.Reset()
	}
	m.buf = append(append(append(append(append(m.buf[:0], a...), 0), b...), 0), c...)
	m.h.Write(m.buf)
	copy(sum[:], m.h.Sum(m.sum[:0]))
	s.macs.Put(m)
	return sum
}

// idTag authenticates an id qun hands out: the first n bytes of
// HMAC-SHA256(key, what 0x00 botID 0x00 value), so that a made-up or mangled
// id is refused instead of naming something by accident.
func (s *Server) idTag(what, botID string, value []byte, n int) []byte {
	sum := s.mac(what, botID, string(value))
	return sum[:n]
}

// eventID returns the frame id of a bot's event: "<TYPE>:<24 lower-case hex>"
// encoding the event's seq; it is accepted back as event_id.
func (s *Server) eventID(botID string, t group.EventType, seq int64) string {
	var v [12]byte
	binary.BigEndian.PutUint64(v[:8], uint64(seq))
	sum := s.mac("event", botID, string(v[:8]))
	copy(v[8:], sum[:4])
	var x [len(v) * 2]byte
	hex.Encode(x[:], v[:])
	return string(t) + ":" + string(x[:])
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
	var v [16]byte
	binary.BigEndian.PutUint64(v[:8], uint64(uid))
	sum := s.mac("msg", botID, string(v[:8]))
	copy(v[8:], sum[:8])
	var x [22]byte // base64.RawURLEncoding.EncodedLen(16)
	base64.RawURLEncoding.Encode(x[:], v[:])
	return msgIDPrefix + string(x[:])
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
