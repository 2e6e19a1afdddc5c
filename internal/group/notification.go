package group

import (
	"encoding/json"
	"slices"
	"time"
)

// Notification content types (Wildfire ProtoConstants.ContentType 104–123).
const (
	NotifyCreateGroup       = 104
	NotifyAddMember         = 105
	NotifyKickMember        = 106
	NotifyQuitGroup         = 107
	NotifyDismissGroup      = 108
	NotifyTransferOwner     = 109
	NotifyChangeName        = 110
	NotifyMemberAlias       = 111
	NotifyChangePortrait    = 112
	NotifyChangeMute        = 113
	NotifyChangeJoinType    = 114
	NotifyChangePrivateChat = 115
	NotifyChangeSearchable  = 116
	NotifySetManager        = 117
	NotifyMuteMember        = 118
	NotifyAllowMember       = 119
	NotifyChangeExtra       = 122
	NotifyMemberExtra       = 123
)

// IsNotification reports whether a content type is one a client may not send
// itself: recall, delete and the group notifications 100–199.
func IsNotification(contentType int) bool {
	return contentType == ContentRecall || contentType == ContentDelete ||
		(contentType >= 100 && contentType <= 199)
}

// notificationData is the JSON a group notification carries in its payload's
// data (Wildfire GroupNotificationBinaryContent): g group, o operator, n value,
// m one member, ms members. Absent keys are omitted, empty strings are kept.
type notificationData struct {
	G  string   `json:"g"`
	O  string   `json:"o"`
	N  *string  `json:"n,omitempty"`
	M  *string  `json:"m,omitempty"`
	MS []string `json:"ms,omitempty"`
}

func ptr(s string) *string { return &s }

// notification builds a built-in notification payload.
func notification(contentType int, d notificationData) Payload {
	data, err := json.Marshal(d)
	if err != nil { // strings and string slices always marshal
		panic("group: marshal notification: " + err.Error())
	}
	return Payload{Type: contentType, Data: data}
}

// checkNotify validates a Notify given by a client.
func checkNotify(n Notify) error {
	if len(n.Lines) > DefaultMaxLines {
		return Errorf(EInvalidParam, "to_lines has more than %d lines", DefaultMaxLines)
	}
	for _, l := range n.Lines {
		if l < 0 || l > MaxLine {
			return Errorf(EInvalidParam, "line %d is out of 0..%d", l, MaxLine)
		}
	}
	return nil
}

// notify appends a write's notification to the group timeline once per line:
// the custom message when the caller gave one with Type > 0, else the built-in
// one. A built-in payload of Type 0 means the write has no built-in notification.
func notify(tx Tx, groupID, sender string, builtin Payload, n Notify, now time.Time) error {
	p := builtin
	if n.Message != nil && n.Message.Type > 0 {
		p = *n.Message
	}
	if p.Type <= 0 {
		return nil
	}
	lines := n.Lines
	if len(lines) == 0 {
		lines = []int{0}
	}
	seen := make(map[int]bool, len(lines))
	for _, line := range lines {
		if seen[line] {
			continue
		}
		seen[line] = true
		if _, err := tx.AppendMessage(Message{GroupID: groupID, Line: line, Sender: sender, Payload: p, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// inLockOrder returns a sorted copy of ids. Operations visit bots in this
// order so that concurrent transactions on a shared store lock bot rows in one
// order and cannot deadlock one another.
func inLockOrder(ids []string) []string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return slices.Compact(sorted)
}

// botsJoined records that userIDs became members of groupID: each bot among
// them gets GROUP_ADD_ROBOT, and its ice-breaker, if enabled, is posted as the bot.
func botsJoined(tx Tx, groupID string, userIDs []string, operator string, now time.Time) error {
	for _, id := range inLockOrder(userIDs) {
		bot, err := tx.Bot(id)
		if IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(Event{BotID: id, Type: EventAddRobot, GroupID: groupID, OperatorID: operator, CreatedAt: now}); err != nil {
			return err
		}
		if !bot.IceBreaker.Enabled || bot.IceBreaker.Payload.Type <= 0 {
			continue
		}
		if _, err := tx.AppendMessage(Message{GroupID: groupID, Line: 0, Sender: id, Payload: bot.IceBreaker.Payload, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// botsLeft records that userIDs stopped being members of groupID: each bot
// among them gets GROUP_DEL_ROBOT.
func botsLeft(tx Tx, groupID string, userIDs []string, operator string, now time.Time) error {
	for _, id := range inLockOrder(userIDs) {
		if _, err := tx.Bot(id); IsNotExist(err) {
			continue
		} else if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(Event{BotID: id, Type: EventDelRobot, GroupID: groupID, OperatorID: operator, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}
