package group

import "time"

// DeliveryKind names one of a bot's outbound streams. Every stream reads the
// bot's event log; its door decides which events it carries and how.
type DeliveryKind string

// The outbound streams of a bot.
const (
	// DeliveryWebhook is the QQ webhook: the bot's gateway events, POSTed.
	DeliveryWebhook DeliveryKind = "webhook"
	// DeliveryCallback is the Wildfire robot callback.
	DeliveryCallback DeliveryKind = "callback"
	// DeliveryGroupInfo and DeliveryGroupMember are the operator's group
	// callbacks; their streams read the ServerLog.
	DeliveryGroupInfo   DeliveryKind = "group_info"
	DeliveryGroupMember DeliveryKind = "group_member"
)

// DeliveryStream is one outbound stream of a bot: where it goes, how far it
// got, and which node delivers it. It is door state, kept in the store.
type DeliveryStream struct {
	BotID string
	Kind  DeliveryKind
	URL   string // "" : the stream is off
	// Intents are the QQ intents of a webhook (which events it gets).
	Intents int64
	// Delivered is the last event seq done with: delivered, not the stream's, or dropped.
	Delivered int64
	// Epoch grows with every change of the target and every redelivery, so
	// that progress recorded for an older one is refused.
	Epoch       int64
	LastError   string    // of the last failed attempt; "" after a success
	NextAttempt time.Time // of the failing item; zero when none is failing
	Dropped     int64     // events given up on, in all
	LeaseNode   string    // the node delivering the stream; "" when none
	LeaseUntil  time.Time // until when LeaseNode's lease holds unless renewed
	UpdatedAt   time.Time
}

// DeliveryProgress is what the node holding a stream's lease records of it.
type DeliveryProgress struct {
	BotID       string
	Kind        DeliveryKind
	Node        string // must hold the lease
	Epoch       int64  // must still be the stream's
	Delivered   int64
	LastError   string
	NextAttempt time.Time
	LeaseUntil  time.Time // the lease, renewed
	UpdatedAt   time.Time
}

// DeliveryAttempt is one POST of one event to a stream's URL.
type DeliveryAttempt struct {
	BotID    string
	Kind     DeliveryKind
	Seq      int64
	ItemID   string // the id the receiver sees (the frame id, the webhook-id)
	Type     string // the event type
	Status   int    // the HTTP status; 0 when there was no answer
	Error    string // "" when the item was delivered
	At       time.Time
	Duration time.Duration // kept in milliseconds
}

// DeliveryDrop records events of a stream that were given up on: not
// delivered within the event retention, or pruned before they could be.
type DeliveryDrop struct {
	BotID   string
	Kind    DeliveryKind
	FromSeq int64
	ToSeq   int64  // FromSeq..ToSeq, both included
	ItemID  string // of FromSeq when it was one event tried; else ""
	Type    string
	Error   string
	At      time.Time
}

// The reports of a bot's outbound delivery, as the Admin API and the console
// show them. The wiring builds them from the streams, their attempts and drops.

// Webhook is a robot's QQ webhook.
type Webhook struct {
	URL       string
	Intents   int64
	Validated bool // the URL passed op 13 validation when it was set
}

// StreamReport is the state of one outbound stream.
type StreamReport struct {
	URL          string
	DeliveredSeq int64
	Pending      int64 // events after DeliveredSeq
	LastError    string
	NextAttempt  time.Time // zero when nothing is failing
	Dropped      int64
	Node         string // the node delivering the stream; "" when none
}

// AttemptReport is one POST of an event.
type AttemptReport struct {
	Kind     DeliveryKind
	ID       string // the id the receiver saw
	Seq      int64
	Type     string
	Status   int
	Error    string
	At       time.Time
	Duration time.Duration
}

// DropReport is one record of events given up on.
type DropReport struct {
	Kind    DeliveryKind
	FromSeq int64
	ToSeq   int64
	ID      string // of FromSeq when it was one event tried; else ""
	Type    string
	Error   string
	At      time.Time
}

// DeliveryReport is a robot's streams and their newest attempts and drops.
type DeliveryReport struct {
	Webhook  StreamReport
	Callback StreamReport
	Attempts []AttemptReport // newest first
	Drops    []DropReport    // newest first
}
