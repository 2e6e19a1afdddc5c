package group

import (
	"context"
	"time"
)

// Conversation types (Wildfire Conversation.type).
const (
	ConvSingle   = 0
	ConvGroup    = 1
	ConvChatroom = 2
	ConvChannel  = 3
	ConvThings   = 4
	ConvSecret   = 5
)

// Mention types of a payload.
const (
	MentionNone = 0
	MentionSome = 1
	MentionAll  = 2
)

// Content types the domain itself produces or checks.
const (
	ContentText   = 1
	ContentRecall = 80
	ContentDelete = 81
)

// Payload is a Wildfire MessagePayload.
type Payload struct {
	Type              int
	SearchableContent string
	PushContent       string
	PushData          string
	Content           string
	Data              []byte // base64edData on the wire
	MediaType         int
	RemoteMediaURL    string
	PersistFlag       int
	ExpireDuration    int
	MentionedType     int
	MentionedTarget   []string
	Extra             string
}

// Mentions reports whether the payload mentions userID.
func (p Payload) Mentions(userID string) bool {
	switch p.MentionedType {
	case MentionAll:
		return true
	case MentionSome:
		for _, t := range p.MentionedTarget {
			if t == userID {
				return true
			}
		}
	}
	return false
}

// Message is one entry of a group's timeline: a chat message or a notification.
type Message struct {
	UID     int64 // globally unique message id (Wildfire messageUid); assigned by the store
	GroupID string
	Line    int
	Seq     int64 // position in the (group, line) timeline, from 1; assigned by the store
	Sender  string
	Payload Payload
	// Notification, when a write appends a built-in notification, is that
	// notification instead of a Payload. The store keeps it as its payload
	// (its Type, and its fields as JSON in Data) and reads it back as that
	// Payload, Notification nil: a notify_message of a notification type is
	// a payload like any other, so the two cannot be told apart.
	Notification *Notification
	CreatedAt    time.Time
}

// DefaultTimelinePage and MaxTimelinePage bound one timeline read.
const (
	DefaultTimelinePage = 100
	MaxTimelinePage     = 500
)

// SendInput is a chat message to a conversation.
type SendInput struct {
	Sender   string
	ConvType int
	Target   string
	Line     int
	Payload  Payload
	// System lets the sender post notification content types (the Admin API);
	// robots and users may not (Wildfire rejects 80, 81 and 100–199 from them).
	System bool
}

// SendMessage appends a chat message to a group's timeline. Every bot in the
// group that the payload mentions, other than the sender, gets
// GROUP_AT_MESSAGE_CREATE. Only group conversations are served.
func (s *Service) SendMessage(ctx context.Context, in SendInput) (Message, error) {
	if in.ConvType < ConvSingle || in.ConvType > 6 {
		return Message{}, Errorf(EInvalidParam, "conversation type %d is out of 0..6", in.ConvType)
	}
	if in.Target == "" {
		return Message{}, Errorf(EInvalidParam, "conversation target is empty")
	}
	if err := checkText("conversation target", in.Target); err != nil {
		return Message{}, err
	}
	if err := checkPayload("payload", in.Payload); err != nil {
		return Message{}, err
	}
	if err := checkID("sender", in.Sender); err != nil {
		return Message{}, err
	}
	if in.ConvType != ConvGroup {
		return Message{}, Errorf(ENotImplement, "qun serves group conversations only")
	}
	if in.Line < 0 || in.Line > MaxLine {
		return Message{}, Errorf(EInvalidParam, "line %d is out of 0..%d", in.Line, MaxLine)
	}
	if in.Payload.Type <= 0 {
		return Message{}, Errorf(EInvalidParam, "payload type %d is not a content type", in.Payload.Type)
	}
	if !in.System && IsNotification(in.Payload.Type) {
		return Message{}, Errorf(EInvalidParam, "content type %d is the server's", in.Payload.Type)
	}
	var msg Message
	err := s.update(ctx, func(tx Tx, now time.Time) error {
		g, err := tx.Group(in.Target)
		if err != nil {
			return err
		}
		m, err := activeMember(tx, g.ID, in.Sender)
		if err != nil {
			return err
		}
		if err := maySpeak(g, m); err != nil {
			return err
		}
		msg, err = appendMessage(tx, Message{GroupID: g.ID, Line: in.Line, Sender: in.Sender, Payload: in.Payload, CreatedAt: now})
		if err != nil {
			return err
		}
		if in.Payload.MentionedType == MentionNone {
			return nil
		}
		bots, err := tx.BotMembers(g.ID)
		if err != nil {
			return err
		}
		for _, b := range inLockOrder(bots) {
			if b == in.Sender || !in.Payload.Mentions(b) {
				continue
			}
			if _, err := tx.AppendEvent(Event{BotID: b, Type: EventAtMessage, GroupID: g.ID, OperatorID: in.Sender, MessageUID: msg.UID, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return msg, err
}

// maySpeak applies the mute rules: a muted member never speaks; in a muted
// group only the owner, managers and allowed members do.
func maySpeak(g Group, m Member) error {
	if m.Type == MemberSilent {
		return Errorf(ENotRight, "%s is muted in %s", m.UserID, g.ID)
	}
	if g.Mute == 1 && !m.IsAdmin() && m.Type != MemberAllowed {
		return Errorf(EGroupMuted, "group %s is muted", g.ID)
	}
	return nil
}

// Timeline returns up to limit messages of a group's line after seq afterSeq,
// and the seq to read after next (0 when there are no more). A dismissed
// group's timeline stays readable while it has messages.
func (s *Service) Timeline(ctx context.Context, groupID string, line int, afterSeq int64, limit int) ([]Message, int64, error) {
	if limit == 0 {
		limit = DefaultTimelinePage
	}
	if limit < 1 || limit > MaxTimelinePage {
		return nil, 0, Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxTimelinePage)
	}
	if line < 0 || line > MaxLine {
		return nil, 0, Errorf(EInvalidParam, "line %d is out of 0..%d", line, MaxLine)
	}
	if afterSeq < 0 {
		return nil, 0, Errorf(EInvalidParam, "after %d is negative", afterSeq)
	}
	if err := checkText("group id", groupID); err != nil {
		return nil, 0, err
	}
	var ms []Message
	err := s.view(ctx, func(r Reader) error {
		var err error
		ms, err = r.Messages(groupID, line, afterSeq, limit+1)
		if err != nil {
			return err
		}
		if len(ms) == 0 && afterSeq == 0 {
			if _, err := r.Group(groupID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ms) > limit {
		ms = ms[:limit]
		next = ms[limit-1].Seq
	}
	return ms, next, nil
}

// TimelineBefore returns up to limit messages of a group's line with seq
// below beforeSeq (the newest when beforeSeq is 0), newest first, and the
// seq to read before next (0 when there are no older ones): a timeline read
// from its end, by key, whatever its length.
func (s *Service) TimelineBefore(ctx context.Context, groupID string, line int, beforeSeq int64, limit int) ([]Message, int64, error) {
	if limit == 0 {
		limit = DefaultTimelinePage
	}
	if limit < 1 || limit > MaxTimelinePage {
		return nil, 0, Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxTimelinePage)
	}
	if line < 0 || line > MaxLine {
		return nil, 0, Errorf(EInvalidParam, "line %d is out of 0..%d", line, MaxLine)
	}
	if beforeSeq < 0 {
		return nil, 0, Errorf(EInvalidParam, "before %d is negative", beforeSeq)
	}
	var ms []Message
	err := s.view(ctx, func(r Reader) (err error) {
		ms, err = r.MessagesBefore(groupID, line, beforeSeq, limit+1)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ms) > limit {
		ms = ms[:limit]
		next = ms[limit-1].Seq
	}
	return ms, next, nil
}
