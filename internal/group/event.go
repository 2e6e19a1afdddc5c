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
)

// Event is one entry of a bot's event log. It records domain facts with
// internal ids; the gateway renders them with the bot's openids.
type Event struct {
	BotID      string
	Seq        int64 // per-bot sequence from 1; assigned by the store
	Type       EventType
	GroupID    string
	OperatorID string // who did it: the member that added/removed/toggled, or the message's sender
	MessageUID int64  // for EventAtMessage: the message
	CreatedAt  time.Time
}
