package group

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// RobotInput creates or updates a robot.
type RobotInput struct {
	User       User // ID empty: generated
	Owner      string
	Secret     string // empty: kept, or generated for a new robot
	Callback   string
	RobotExtra string
}

// CreateRobot creates a robot (a user of type robot plus its credentials), or
// updates an existing one. A new robot gets a Wildfire secret (unless given)
// and Bot Open Platform credentials: a numeric app id and an app secret.
func (s *Service) CreateRobot(ctx context.Context, in RobotInput) (User, Bot, error) {
	u := in.User
	if err := checkUser(u); err != nil {
		return User{}, Bot{}, err
	}
	if err := checkText("robot", in.Owner, in.Secret, in.Callback, in.RobotExtra); err != nil {
		return User{}, Bot{}, err
	}
	if u.ID != "" {
		if err := checkID("userId", u.ID); err != nil {
			return User{}, Bot{}, err
		}
	}
	var b Bot
	err := s.update(ctx, func(tx Tx, now time.Time) error {
		if u.ID == "" {
			u.ID = s.cfg.NewID()
		}
		old, err := tx.User(u.ID)
		if err == nil && old.Type != UserRobot {
			return Errorf(EConflict, "user %s exists and is not a robot", u.ID)
		}
		if err != nil && !IsNotExist(err) {
			return err
		}
		u.Type, u.UpdatedAt = UserRobot, now
		if err := tx.PutUser(u); err != nil {
			return err
		}
		b, err = tx.Bot(u.ID)
		if IsNotExist(err) {
			b = Bot{UserID: u.ID, Secret: RandomString(32), AppSecret: RandomString(32)}
			if b.AppID, err = newAppID(tx); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if in.Secret != "" {
			b.Secret = in.Secret
		}
		b.Owner, b.Callback, b.RobotExtra, b.UpdatedAt = in.Owner, in.Callback, in.RobotExtra, now
		return tx.PutBot(b)
	})
	return u, b, err
}

// newAppID returns a free 10-digit app id.
func newAppID(r Reader) (string, error) {
	for range 10 {
		n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
		if err != nil {
			return "", fmt.Errorf("app id: %w", err)
		}
		id := fmt.Sprint(1_000_000_000 + n.Int64())
		if _, err := r.BotByAppID(id); IsNotExist(err) {
			return id, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", Errorf(EInternal, "no free app id after 10 tries")
}

// GetRobot returns a robot's user and bot records.
func (s *Service) GetRobot(ctx context.Context, id string) (User, Bot, error) {
	var u User
	var b Bot
	err := s.view(ctx, func(r Reader) (err error) {
		if b, err = r.Bot(id); err != nil {
			return err
		}
		u, err = r.User(id)
		return err
	})
	return u, b, err
}

// BotByAppID returns the bot with a Bot Open Platform app id.
func (s *Service) BotByAppID(ctx context.Context, appID string) (Bot, error) {
	var b Bot
	err := s.view(ctx, func(r Reader) (err error) {
		b, err = r.BotByAppID(appID)
		return err
	})
	return b, err
}

// SetCallback sets (or with "" clears) a robot's message callback URL.
func (s *Service) SetCallback(ctx context.Context, robotID, url string) error {
	if err := checkText("callback", url); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, now time.Time) error {
		b, err := tx.Bot(robotID)
		if err != nil {
			return err
		}
		b.Callback, b.UpdatedAt = url, now
		return tx.PutBot(b)
	})
}

// SetIceBreaker sets the message a bot posts into every group it joins from now on.
func (s *Service) SetIceBreaker(ctx context.Context, robotID string, ib IceBreaker) error {
	if ib.Enabled && ib.Payload.Type <= 0 {
		return Errorf(EInvalidParam, "an enabled ice-breaker needs a payload with a content type")
	}
	if ib.Enabled && IsNotification(ib.Payload.Type) {
		return Errorf(EInvalidParam, "content type %d is the server's", ib.Payload.Type)
	}
	if err := checkPayload("ice-breaker", ib.Payload); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, now time.Time) error {
		b, err := tx.Bot(robotID)
		if err != nil {
			return err
		}
		b.IceBreaker, b.UpdatedAt = ib, now
		return tx.PutBot(b)
	})
}

// SetProactive turns a bot's proactive messages in a group off (allow false)
// or on. The owner or a manager may; the bot gets GROUP_MSG_REJECT or
// GROUP_MSG_RECEIVE. Setting the current value again changes nothing.
func (s *Service) SetProactive(ctx context.Context, a Actor, groupID, botID string, allow bool) error {
	if err := checkRead(a, groupID, botID); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, now time.Time) error {
		g, err := tx.Group(groupID)
		if err != nil {
			return err
		}
		if _, err := tx.Bot(botID); err != nil {
			return err
		}
		if _, err := activeMember(tx, g.ID, botID); err != nil {
			return err
		}
		if !a.Admin {
			am, err := activeMember(tx, g.ID, a.UserID)
			if ErrorCode(err) == ENotInGroup || (err == nil && !am.IsAdmin()) {
				return Errorf(ENotRight, "only the owner or a manager turns a bot's proactive messages off or on")
			}
			if err != nil {
				return err
			}
		}
		cur, err := tx.Proactive(g.ID, botID)
		if err != nil || cur == allow {
			return err
		}
		if err := tx.SetProactive(g.ID, botID, allow); err != nil {
			return err
		}
		t := EventMsgReject
		if allow {
			t = EventMsgAccept
		}
		_, err = tx.AppendEvent(Event{BotID: botID, Type: t, GroupID: g.ID, OperatorID: a.UserID, CreatedAt: now})
		return err
	})
}

// BotSendInput is a message a bot sends to a group through the Bot Open Platform.
type BotSendInput struct {
	BotID   string
	GroupID string
	Payload Payload
	// ReplyToMessage is the uid of a message that mentioned the bot (a passive reply), or 0.
	ReplyToMessage int64
	// ReplyToEvent is the seq of the bot's GROUP_ADD_ROBOT or GROUP_MSG_RECEIVE event (a passive message), or 0.
	ReplyToEvent int64
	MsgSeq       int
}

// BotSend appends a bot's message to a group's timeline under the passive and
// proactive rules: a passive message answers a mentioning message or an
// ADD_ROBOT/MSG_RECEIVE event within the passive window, at most
// PassiveReplies times, each (reply, msg_seq) once; any other is proactive,
// refused while the group has the bot's proactive messages off and counted
// against the proactive quota.
func (s *Service) BotSend(ctx context.Context, in BotSendInput) (Message, error) {
	if in.Payload.Type <= 0 || IsNotification(in.Payload.Type) {
		return Message{}, Errorf(EInvalidParam, "content type %d may not be sent", in.Payload.Type)
	}
	if err := checkPayload("message", in.Payload); err != nil {
		return Message{}, err
	}
	var msg Message
	err := s.update(ctx, func(tx Tx, now time.Time) error {
		g, err := tx.Group(in.GroupID)
		if err != nil {
			return err
		}
		m, err := activeMember(tx, g.ID, in.BotID)
		if err != nil {
			return err
		}
		if err := maySpeak(g, m); err != nil {
			return err
		}
		replyTo, err := s.replyKey(tx, in, now)
		if err != nil {
			return err
		}
		if replyTo == "" {
			if ok, err := tx.Proactive(g.ID, in.BotID); err != nil {
				return err
			} else if !ok {
				return Errorf(ERejected, "the group turned the bot's proactive messages off")
			}
			if q := s.cfg.ProactiveQuota; q >= 0 {
				n, err := tx.CountProactive(in.BotID, g.ID, now.Add(-s.cfg.ProactivePeriod))
				if err != nil {
					return err
				}
				if n >= q {
					return Errorf(EOverQuota, "the bot used its %d proactive messages to the group", q)
				}
			}
		}
		msg, err = appendMessage(tx, Message{GroupID: g.ID, Line: 0, Sender: in.BotID, Payload: in.Payload, CreatedAt: now})
		if err != nil {
			return err
		}
		err = tx.AppendBotMessage(BotMessage{BotID: in.BotID, GroupID: g.ID, MessageUID: msg.UID, ReplyTo: replyTo, MsgSeq: in.MsgSeq, CreatedAt: now})
		if ErrorCode(err) == EConflict {
			return Errorf(EDuplicate, "msg_seq %d was used for this reply already", in.MsgSeq)
		}
		return err
	})
	return msg, err
}

// replyKey checks what a passive message answers and returns its key, or ""
// for a proactive message.
func (s *Service) replyKey(tx Reader, in BotSendInput, now time.Time) (string, error) {
	var key string
	var at time.Time
	switch {
	case in.ReplyToMessage != 0:
		m, err := tx.Message(in.ReplyToMessage)
		if IsNotExist(err) || (err == nil && (m.GroupID != in.GroupID || !m.Payload.Mentions(in.BotID))) {
			return "", Errorf(ENotExist, "msg_id does not name a message of this group that mentions the bot")
		}
		if err != nil {
			return "", err
		}
		key, at = fmt.Sprintf("msg:%d", m.UID), m.CreatedAt
	case in.ReplyToEvent != 0:
		e, err := tx.Event(in.BotID, in.ReplyToEvent)
		if IsNotExist(err) || (err == nil && (e.GroupID != in.GroupID || (e.Type != EventAddRobot && e.Type != EventMsgAccept))) {
			return "", Errorf(ENotExist, "event_id does not name a GROUP_ADD_ROBOT or GROUP_MSG_RECEIVE event of this group")
		}
		if err != nil {
			return "", err
		}
		key, at = fmt.Sprintf("event:%d", e.Seq), e.CreatedAt
	default:
		return "", nil
	}
	if now.Sub(at) > s.cfg.PassiveWindow {
		return "", Errorf(EExpired, "the passive reply window of %s has passed", s.cfg.PassiveWindow)
	}
	n, err := tx.CountReplies(in.BotID, key)
	if err != nil {
		return "", err
	}
	if n >= s.cfg.PassiveReplies {
		return "", Errorf(EExpired, "the %d passive replies are used up", s.cfg.PassiveReplies)
	}
	return key, nil
}

// MaxBotsPage is the largest page Bots serves.
const MaxBotsPage = 500

// Bots returns up to limit bots with UserID > afterID, in UserID order, and
// the id to continue after ("" when there are no more), read by key.
func (s *Service) Bots(ctx context.Context, afterID string, limit int) ([]Bot, string, error) {
	if limit < 1 || limit > MaxBotsPage {
		return nil, "", Errorf(EInvalidParam, "limit %d is out of 1..%d", limit, MaxBotsPage)
	}
	var bs []Bot
	err := s.view(ctx, func(r Reader) (err error) {
		bs, err = r.Bots(afterID, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(bs) > limit {
		bs = bs[:limit]
		next = bs[limit-1].UserID
	}
	return bs, next, nil
}
