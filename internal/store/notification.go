package store

import (
	"encoding/json"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

// notificationData is the JSON a built-in group notification keeps in its
// payload's data, as Wildfire's GroupNotificationBinaryContent has it: g the
// group, o the operator, n the value, m one member, ms the members. Absent
// keys are omitted, empty strings kept. Timelines hold it as stored, so its
// bytes must never change: a test pins them.
type notificationData struct {
	G  string   `json:"g"`
	O  string   `json:"o"`
	N  *string  `json:"n,omitempty"`
	M  *string  `json:"m,omitempty"`
	MS []string `json:"ms,omitempty"`
}

// notificationKeys are the keys besides g and o that each built-in
// notification type carries: n, m (even when empty) and ms (omitted when empty).
var notificationKeys = map[int]struct{ n, m, ms bool }{
	group.NotifyCreateGroup:       {n: true, m: true},
	group.NotifyAddMember:         {ms: true},
	group.NotifyKickMember:        {ms: true},
	group.NotifyQuitGroup:         {m: true},
	group.NotifyDismissGroup:      {m: true},
	group.NotifyTransferOwner:     {m: true},
	group.NotifyChangeName:        {n: true, m: true},
	group.NotifyMemberAlias:       {n: true, m: true},
	group.NotifyChangePortrait:    {n: true, m: true},
	group.NotifyChangeMute:        {n: true, m: true},
	group.NotifyChangeJoinType:    {n: true, m: true},
	group.NotifyChangePrivateChat: {n: true, m: true},
	group.NotifyChangeSearchable:  {n: true, m: true},
	group.NotifySetManager:        {n: true, ms: true},
	group.NotifyMuteMember:        {n: true, ms: true},
	group.NotifyAllowMember:       {n: true, ms: true},
	group.NotifyChangeExtra:       {n: true, m: true},
	group.NotifyMemberExtra:       {n: true, m: true},
}

// NotificationPayload returns the payload a built-in notification is kept
// and shown as: its content type, and its fields as JSON in the data.
func NotificationPayload(n group.Notification) (group.Payload, error) {
	keys, ok := notificationKeys[n.Type]
	if !ok {
		return group.Payload{}, fmt.Errorf("content type %d is no built-in notification", n.Type)
	}
	d := notificationData{G: n.GroupID, O: n.Operator}
	if keys.n {
		d.N = &n.Value
	}
	if keys.m {
		d.M = &n.Member
	}
	if keys.ms {
		d.MS = n.Members
	}
	data, err := json.Marshal(d)
	if err != nil {
		return group.Payload{}, fmt.Errorf("encode notification: %w", err)
	}
	return group.Payload{Type: n.Type, Data: data}, nil
}

// MessagePayload returns the payload a store keeps for m: that of its
// Notification when it has one, else its Payload.
func MessagePayload(m group.Message) (group.Payload, error) {
	if m.Notification == nil {
		return m.Payload, nil
	}
	return NotificationPayload(*m.Notification)
}
