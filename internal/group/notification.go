package group

import (
	"encoding/json"
	"slices"
	"strings"
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

// Notification is a built-in group notification (Wildfire
// GroupNotificationBinaryContent): what changed in a group, and who changed
// it. The domain appends it to the timeline as a Message's Notification; the
// wire form it is kept and shown in (a payload whose data is {g,o,n,m,ms}
// JSON) is the store's.
type Notification struct {
	Type     int    // the content type, NotifyCreateGroup..NotifyMemberExtra
	GroupID  string // g
	Operator string // o: who acted; "" for the server
	// Value is n, the new value, in the types that have one: the group's
	// name (create), the modified field, the alias or extra, or "0"/"1" for
	// a manager, mute or allow switch.
	Value string
	// Member is m, the member it is about in the types about one member:
	// the new owner (transfer), the member whose alias or extra changed;
	// "" in the other one-member types (create, quit, dismiss, modify).
	Member string
	// Members is ms, the members of add, kick, manager, mute and allow.
	Members []string
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
	if n.Message != nil {
		return checkPayload("notify_message", *n.Message)
	}
	return nil
}

// notify appends a write's notification to the group timeline once per line:
// the custom message when the caller gave one with Type > 0, else the built-in
// one. A nil builtin means the write has no built-in notification.
func (s *Service) notify(tx Tx, groupID, sender string, builtin *Notification, n Notify, now time.Time) error {
	if err := s.recordChange(tx, groupID, sender, builtin, now); err != nil {
		return err
	}
	m := Message{GroupID: groupID, Sender: sender, Notification: builtin, CreatedAt: now}
	if n.Message != nil && n.Message.Type > 0 {
		m.Payload, m.Notification = *n.Message, nil
	}
	if m.Notification == nil && m.Payload.Type <= 0 {
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
		m.Line = line
		if _, err := appendMessage(tx, m); err != nil {
			return err
		}
	}
	return nil
}

// changeOfNotification is the group change each built-in notification
// tells of: its server event and its GroupChange type.
var changeOfNotification = map[int]struct {
	event EventType
	typ   int
}{
	NotifyCreateGroup:       {EventGroupInfo, GroupUpdateCreate},
	NotifyDismissGroup:      {EventGroupInfo, GroupUpdateDestroy},
	NotifyTransferOwner:     {EventGroupInfo, GroupUpdateTransfer},
	NotifyChangeName:        {EventGroupInfo, GroupUpdateInfo},
	NotifyChangePortrait:    {EventGroupInfo, GroupUpdateInfo},
	NotifyChangeMute:        {EventGroupInfo, GroupUpdateMute}, // or unmute, by its value
	NotifyChangeJoinType:    {EventGroupInfo, GroupUpdateInfo},
	NotifyChangePrivateChat: {EventGroupInfo, GroupUpdateInfo},
	NotifyChangeSearchable:  {EventGroupInfo, GroupUpdateInfo},
	NotifyChangeExtra:       {EventGroupInfo, GroupUpdateInfo},
	NotifyAddMember:         {EventGroupMember, GroupMemberJoin},
	NotifyQuitGroup:         {EventGroupMember, GroupMemberLeave},
	NotifyKickMember:        {EventGroupMember, GroupMemberKickoff},
	NotifySetManager:        {EventGroupMember, GroupMemberType},
	NotifyMuteMember:        {EventGroupMember, GroupMemberType},
	NotifyAllowMember:       {EventGroupMember, GroupMemberType},
	NotifyMemberAlias:       {EventGroupMember, GroupMemberAlias},
	NotifyMemberExtra:       {EventGroupMember, GroupMemberExtra},
}

// roleTypes are the member types the role notifications set when on.
var roleTypes = map[int]string{NotifySetManager: "1", NotifyMuteMember: "3", NotifyAllowMember: "5"}

// recordChange records, when group changes are kept, the change a write's
// built-in notification tells of (whatever notification is posted instead).
func (s *Service) recordChange(tx Tx, groupID, operator string, builtin *Notification, now time.Time) error {
	if !s.cfg.GroupChanges || builtin == nil {
		return nil
	}
	c, ok := changeOfNotification[builtin.Type]
	if !ok {
		return nil
	}
	ch := GroupChange{Type: c.typ, MemberIDs: builtin.Members, Value: builtin.Value}
	switch {
	case builtin.Type == NotifyChangeMute && ch.Value != "1":
		ch.Type = GroupUpdateUnmute
	case builtin.Type == NotifyQuitGroup:
		ch.MemberIDs = []string{operator}
	case builtin.Type == NotifyMemberAlias || builtin.Type == NotifyMemberExtra:
		ch.MemberIDs = []string{builtin.Member}
	case builtin.Type == NotifyTransferOwner:
		ch.Value = builtin.Member // the new owner
	case roleTypes[builtin.Type] != "":
		if ch.Value == "1" {
			ch.Value = roleTypes[builtin.Type]
		} else {
			ch.Value = "0"
		}
	}
	return s.recordGroupChange(tx, c.event, groupID, operator, ch, now)
}

// recordGroupChange appends a change to the ServerLog when group changes are kept.
func (s *Service) recordGroupChange(tx Tx, t EventType, groupID, operator string, ch GroupChange, now time.Time) error {
	if !s.cfg.GroupChanges {
		return nil
	}
	data, err := json.Marshal(ch)
	if err != nil {
		return Errorf(EInternal, "marshal group change: %v", err)
	}
	_, err = tx.AppendEvent(Event{BotID: ServerLog, Type: t, GroupID: groupID, OperatorID: operator, Data: string(data), CreatedAt: now})
	return err
}

// appendMessage appends m to its timeline and, in the same transaction,
// records it in the event log of every robot member with a Wildfire
// callback but its sender, which the callback delivers from.
func appendMessage(tx Tx, m Message) (Message, error) {
	m, bots, err := tx.AppendMessageCallbacks(m)
	if err != nil {
		return m, err
	}
	for _, b := range bots {
		if b == m.Sender {
			continue
		}
		e := Event{BotID: b, Type: EventRobotMessage, GroupID: m.GroupID, OperatorID: m.Sender, MessageUID: m.UID, CreatedAt: m.CreatedAt}
		if _, err := tx.AppendEvent(e); err != nil {
			return m, err
		}
	}
	return m, nil
}

// inLockOrder returns a sorted copy of ids. Operations visit bots in this
// order so that concurrent transactions on a shared store lock bot rows in one
// order and cannot deadlock one another.
func inLockOrder(ids []string) []string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return slices.Compact(sorted)
}

// botsAmong returns the bots among userIDs in lock order, read in one go.
func botsAmong(r Reader, userIDs []string) ([]Bot, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	bots, err := r.BotsOf(userIDs)
	if err != nil {
		return nil, err
	}
	return inBotOrder(bots), nil
}

// inBotOrder sorts bots in lock order and returns them.
func inBotOrder(bots []Bot) []Bot {
	slices.SortFunc(bots, func(a, b Bot) int { return strings.Compare(a.UserID, b.UserID) })
	return bots
}

// botsJoined records that userIDs became members of groupID: each bot among
// them gets GROUP_ADD_ROBOT, and its ice-breaker, if enabled, is posted as the bot.
func botsJoined(tx Tx, groupID string, userIDs []string, operator string, now time.Time) error {
	bots, err := botsAmong(tx, userIDs)
	if err != nil {
		return err
	}
	return botsJoinedOf(tx, groupID, bots, operator, now)
}

// botsJoinedOf is botsJoined of the bots among the members, read already,
// in lock order.
func botsJoinedOf(tx Tx, groupID string, bots []Bot, operator string, now time.Time) error {
	for _, bot := range bots {
		id := bot.UserID
		if _, err := tx.AppendEvent(Event{BotID: id, Type: EventAddRobot, GroupID: groupID, OperatorID: operator, CreatedAt: now}); err != nil {
			return err
		}
		if !bot.IceBreaker.Enabled || bot.IceBreaker.Payload.Type <= 0 {
			continue
		}
		if _, err := appendMessage(tx, Message{GroupID: groupID, Line: 0, Sender: id, Payload: bot.IceBreaker.Payload, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// botsLeft records that userIDs stopped being members of groupID: each bot
// among them gets GROUP_DEL_ROBOT.
func botsLeft(tx Tx, groupID string, userIDs []string, operator string, now time.Time) error {
	bots, err := botsAmong(tx, userIDs)
	if err != nil {
		return err
	}
	for _, bot := range bots {
		id := bot.UserID
		if _, err := tx.AppendEvent(Event{BotID: id, Type: EventDelRobot, GroupID: groupID, OperatorID: operator, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}
