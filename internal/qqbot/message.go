package qqbot

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// ContentQQMessage is the content type under which qun stores a bot message
// that is not plain text (markdown, ark, embed, media, or text with a
// keyboard): payload.content holds the QQ request's message fields as JSON
// ({"msg_type","content","markdown","keyboard","ark","embed","media"}, absent
// ones omitted) and payload.searchableContent its content. Plain text is a
// Wildfire text message (type 1).
const ContentQQMessage = 1900

// QQ message types a group message may have.
const (
	msgTypeText     = 0
	msgTypeMarkdown = 2
	msgTypeArk      = 3
	msgTypeEmbed    = 4
	msgTypeMedia    = 7
)

// messageBody is the JSON of POST /v2/groups/{group_openid}/messages. Unknown
// keys (botpy repeats group_openid) are ignored and null means absent.
type messageBody struct {
	Content  *string         `json:"content"`
	MsgType  *int            `json:"msg_type"`
	Markdown json.RawMessage `json:"markdown"`
	Keyboard json.RawMessage `json:"keyboard"`
	Ark      json.RawMessage `json:"ark"`
	Embed    json.RawMessage `json:"embed"`
	Media    json.RawMessage `json:"media"`
	MsgID    *string         `json:"msg_id"`
	EventID  *string         `json:"event_id"`
	MsgSeq   *json.Number    `json:"msg_seq"`
}

// messageRequest is a checked message body.
type messageRequest struct {
	Payload group.Payload
	MsgID   string
	EventID string
	MsgSeq  int
}

// richMessage is what payload.content holds for ContentQQMessage.
type richMessage struct {
	MsgType  int             `json:"msg_type"`
	Content  string          `json:"content,omitempty"`
	Markdown json.RawMessage `json:"markdown,omitempty"`
	Keyboard json.RawMessage `json:"keyboard,omitempty"`
	Ark      json.RawMessage `json:"ark,omitempty"`
	Embed    json.RawMessage `json:"embed,omitempty"`
	Media    json.RawMessage `json:"media,omitempty"`
}

// parseMessageBody decodes and checks a message body: msg_type defaults to 0
// and msg_seq to 1; text needs content, markdown a markdown object, ark an
// ark, embed an embed and media a media object with a file_info.
func parseMessageBody(data []byte) (messageRequest, *apiError) {
	var b messageBody
	if !isObject(data) || json.Unmarshal(data, &b) != nil {
		return messageRequest{}, badRequest("body is not a JSON message object")
	}
	req := messageRequest{MsgSeq: 1}
	if b.MsgSeq != nil {
		n, err := b.MsgSeq.Int64()
		if err != nil || n < 0 || n > math.MaxInt32 {
			return messageRequest{}, badRequest("msg_seq must be a non-negative integer")
		}
		if n > 0 {
			req.MsgSeq = int(n)
		}
	}
	if b.MsgID != nil {
		req.MsgID = *b.MsgID
	}
	if b.EventID != nil {
		req.EventID = *b.EventID
	}
	rich := richMessage{}
	if b.MsgType != nil {
		rich.MsgType = *b.MsgType
	}
	if b.Content != nil {
		rich.Content = *b.Content
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *json.RawMessage
	}{
		{"markdown", b.Markdown, &rich.Markdown},
		{"keyboard", b.Keyboard, &rich.Keyboard},
		{"ark", b.Ark, &rich.Ark},
		{"embed", b.Embed, &rich.Embed},
		{"media", b.Media, &rich.Media},
	} {
		if isAbsent(f.raw) {
			continue
		}
		if !isObject(f.raw) {
			return messageRequest{}, badRequest(f.name + " must be an object")
		}
		*f.dst = f.raw
	}
	need := func(ok bool, what string) *apiError {
		if ok {
			return nil
		}
		return badRequest(fmt.Sprintf("msg_type %d needs %s", rich.MsgType, what))
	}
	var ae *apiError
	switch rich.MsgType {
	case msgTypeText:
		ae = need(rich.Content != "", "content")
	case msgTypeMarkdown:
		ae = need(rich.Markdown != nil, "markdown")
	case msgTypeArk:
		ae = need(rich.Ark != nil, "ark")
	case msgTypeEmbed:
		ae = need(rich.Embed != nil, "embed")
	case msgTypeMedia:
		var m struct {
			FileInfo *string `json:"file_info"`
		}
		ae = need(rich.Media != nil && json.Unmarshal(rich.Media, &m) == nil && m.FileInfo != nil && *m.FileInfo != "", "media.file_info")
	default:
		ae = badRequest(fmt.Sprintf("msg_type %d is not supported", rich.MsgType))
	}
	if ae != nil {
		return messageRequest{}, ae
	}
	if rich.MsgType == msgTypeText && rich.Keyboard == nil {
		req.Payload = group.Payload{Type: group.ContentText, SearchableContent: rich.Content}
		return req, nil
	}
	content, err := json.Marshal(rich)
	if err != nil { // only valid JSON objects were kept
		return messageRequest{}, badRequest("message fields are not valid JSON")
	}
	req.Payload = group.Payload{Type: ContentQQMessage, SearchableContent: rich.Content, Content: string(content)}
	return req, nil
}

// messageResponse is the answer of a sent message; timestamp is an RFC3339
// string (botgo fails on a number).
type messageResponse struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
}

// postGroupMessage serves POST /v2/groups/{group_openid}/messages. With
// msg_id (a message that mentioned the bot) or event_id (its GROUP_ADD_ROBOT
// or GROUP_MSG_RECEIVE) the message is passive; otherwise proactive. The
// domain applies the rules.
func (s *Server) postGroupMessage(w http.ResponseWriter, r *http.Request, b authBot) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		s.writeError(w, r, badRequest("body too large"))
		return
	}
	req, ae := parseMessageBody(data)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	ctx, botID := r.Context(), b.bot.UserID
	in := group.BotSendInput{BotID: botID, Payload: req.Payload, MsgSeq: req.MsgSeq}
	if req.MsgID != "" {
		uid, ok := s.parseMsgID(botID, req.MsgID)
		if !ok {
			s.writeError(w, r, badRequest("msg_id is malformed"))
			return
		}
		in.ReplyToMessage = uid
	}
	if req.EventID != "" {
		seq, ok := s.parseEventID(botID, req.EventID)
		if !ok {
			s.writeError(w, r, badRequest("event_id is malformed"))
			return
		}
		in.ReplyToEvent = seq
	}
	if in.GroupID, err = s.resolve(ctx, botID, group.OpenIDGroup, r.PathValue("group_openid")); err != nil {
		s.writeError(w, r, err)
		return
	}
	msg, err := s.svc.BotSend(ctx, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageResponse{ID: s.msgID(botID, msg.UID), Timestamp: msg.CreatedAt.Format(time.RFC3339)})
}
