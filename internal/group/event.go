package group

import "time"

// EventType names a bot event; the names are the QQ gateway's.
type EventType string

// The events the domain emits to bots.
const (
	EventAddRobot  EventType = "GROUP_ADD_ROBOT"         // the bot became a member
	EventDelRobot  EventType = "GROUP_DEL_ROBOT"         // the bot stopped being a member
	EventMsgReject EventType = "GROUP_MSG_REJECT"        // proactive messages turned off
	EventMsgAccept EventType = "GROUP_MSG_RECEIVE"       // proactive messages turned back on
	EventAtMessage EventType = "GROUP_AT_MESSAGE_CREATE" // a message mentioned the bot
	// EventRobotMessage records, for a robot with a Wildfire callback, a
	// message (chat or notification) posted to a group it is an active
	// member of, by someone else. It is no QQ gateway event: only the
	// robot's callback carries it.
	EventRobotMessage EventType = "WILDFIRE_MESSAGE"
	// EventGroupInfo and EventGroupMember are the server's own events (in
	// the ServerLog), for the operator's group callbacks: a group was
	// created, changed, transferred, muted, unmuted or dismissed; members
	// joined, left, were kicked, or had their type, alias or extra changed.
	// Data holds the GroupChange.
	EventGroupInfo   EventType = "GROUP_INFO_UPDATE"
	EventGroupMember EventType = "GROUP_MEMBER_UPDATE"
)

// ServerLog is the BotID of the server's own event log, which records group
// changes when Config.GroupChanges is set. No user has the empty id.
const ServerLog = ""

// GroupChange is what a server event records, as Wildfire's group callbacks
// tell it: the change's type (GroupUpdate* or GroupMember*), the members it
// concerns and its value.
type GroupChange struct {
	Type      int      `json:"type"`
	MemberIDs []string `json:"memberIds,omitempty"`
	Value     string   `json:"value,omitempty"`
}

// Wildfire's GroupUpdateEventType (EventGroupInfo) and
// GroupMemberUpdateEventType (EventGroupMember).
const (
	GroupUpdateCreate   = 0
	GroupUpdateInfo     = 1
	GroupUpdateTransfer = 2
	GroupUpdateMute     = 3
	GroupUpdateUnmute   = 4
	GroupUpdateDestroy  = 5

	GroupMemberJoin    = 0
	GroupMemberLeave   = 1
	GroupMemberKickoff = 2
	GroupMemberType    = 3
	GroupMemberAlias   = 4
	GroupMemberExtra   = 5
)

// Event is one entry of a bot's event log. It records domain facts with
// internal ids; the gateway renders them with the bot's openids.
type Event struct {
	BotID      string
	Seq        int64 // per-bot sequence from 1; assigned by the store
	Type       EventType
	GroupID    string
	OperatorID string // who did it: the member that added/removed/toggled, or the message's sender
	MessageUID int64  // for EventAtMessage and EventRobotMessage: the message
	Data       string // for a server event: its GroupChange as JSON
	CreatedAt  time.Time
}

// CommittedEvent is one event as the commit that appended it left it, with
// the message an at-event names when the same write appended it (nil
// otherwise): what a read of the log would give for it.
type CommittedEvent struct {
	Event   Event
	Message *Message
}

// EventFeed is one reader's subscription to the events a bot's commits
// append in this process, handed over in memory after each commit, so that
// a reader that is caught up can send them without reading the log. It
// never replaces the log: Take tells when it was not handed everything.
type EventFeed interface {
	// Take returns the events handed since the last Take, in seq order; woken,
	// the highest seq any commit or wake announced for the bot so far; and
	// lost, whether something was not handed in between. A reader whose
	// cursor continues into evs without a gap, and ends at or past woken,
	// has every event committed so far.
	Take() (evs []CommittedEvent, woken int64, lost bool)
	// Close ends the feed.
	Close()
}
