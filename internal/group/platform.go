package group

import "time"

// AccessToken, Session and OpenID are the QQ door's state rather than the
// group model's: the door's store interface (qqbot.Store) speaks them. They
// live here so that the door and the stores share them without importing
// each other.

// AccessToken is a Bot Open Platform access token (QQ getAppAccessToken).
type AccessToken struct {
	Token     string
	BotID     string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// MaxSessionsPage bounds one listing of a bot's gateway sessions, for every
// door that lists them.
const MaxSessionsPage = 100

// Session is a gateway session: what a bot identified with, kept so that it
// can resume on any node and after a restart.
type Session struct {
	ID         string
	BotID      string
	ShardID    int
	ShardCount int
	Intents    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time // last identify, resume or seen heartbeat

	// Cursor is the last event seq the server has judged for the session:
	// every event up to it was either sent or is not the session's (another
	// shard's, an intent it lacks). A resume continues from it when the
	// client has everything sent, so that a quiet shard's resume does not
	// need events long pruned that were never its own.
	Cursor int64
	// Sent is the last s sent to the session's client (READY, a dispatch, RESUMED).
	Sent int64
	// ConnID names the connection that holds the session, on whichever node:
	// set at identify and resume; another connection finding a different one
	// knows that the session was taken over. It is "" once that connection
	// has ended cleanly: no connection holds the session.
	ConnID string
	// Node is the node whose connection identified or last resumed the
	// session, and ConnectedAt when.
	Node        string
	ConnectedAt time.Time
}

// SessionStatus is a gateway session as the operator sees it: whether a
// connection on some node holds it now (Live). The QQ door decides Live from
// ConnID and how recently the connection was seen.
type SessionStatus struct {
	Session
	Live bool
	// LastSeq is the s of the last event dispatched to the client, as the
	// client saw it; 0 when none was.
	LastSeq int64
}

// OpenID kinds.
const (
	OpenIDGroup  = "group"
	OpenIDMember = "member"
)

// OpenID maps one bot's opaque id back to an internal group or user id.
type OpenID struct {
	BotID      string
	OpenID     string
	Kind       string // OpenIDGroup or OpenIDMember
	InternalID string
}

// BotMessage records a message a bot sent through the Bot Open Platform, for
// the passive-reply and proactive-quota rules.
type BotMessage struct {
	BotID      string
	GroupID    string
	MessageUID int64
	ReplyTo    string // "msg:<uid>" or "event:<seq>" for passive messages, "" for proactive
	MsgSeq     int
	CreatedAt  time.Time
}
