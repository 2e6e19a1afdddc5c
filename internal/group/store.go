package group

import (
	"context"
	"time"
)

// Reader reads the model inside one transaction. A missing row is an *Error
// with ENotExist, never a zero value with a nil error. Listings of an unknown
// group, bot or user are empty, not errors; a limit below 1 lists nothing.
// Times are kept at millisecond precision. Every text is valid UTF-8 without
// NUL (ValidText): a write of other text is EInvalidParam, writes nothing and
// leaves the transaction usable; a read by it finds nothing.
type Reader interface {
	User(id string) (User, error)
	// UserByName and UserByMobile return the first user (by id) with that name or mobile.
	UserByName(name string) (User, error)
	UserByMobile(mobile string) (User, error)
	Bot(userID string) (Bot, error)
	BotByAppID(appID string) (Bot, error)
	// BotsOf returns the Bot records of those of userIDs that have one, each
	// once, in user id order: one read for all the members of a write.
	BotsOf(userIDs []string) ([]Bot, error)
	// Bots returns up to limit bots with UserID > afterID, in UserID order.
	Bots(afterID string, limit int) ([]Bot, error)

	Group(id string) (Group, error)
	// Groups returns up to limit groups with ID > afterID, in ID order.
	Groups(afterID string, limit int) ([]Group, error)
	// GroupsByIDPrefix returns up to limit groups whose ID starts with
	// prefix and is > afterID, in ID order: one range of the ids' index.
	GroupsByIDPrefix(prefix, afterID string, limit int) ([]Group, error)
	// GroupsByNamePrefix returns up to limit groups whose Name starts with
	// prefix (byte by byte) and whose (Name, ID) is > (afterName, afterID),
	// in (Name, ID) order: one range of an index on (name, id).
	GroupsByNamePrefix(prefix, afterName, afterID string, limit int) ([]Group, error)
	// Member returns the member row of any type, removed included.
	Member(groupID, userID string) (Member, error)
	// MembersOf returns the rows, of any type, of those of userIDs that have
	// one in groupID, each once, in Pos order: one read for all the members
	// of a write.
	MembersOf(groupID string, userIDs []string) ([]Member, error)
	// Joining returns MembersOf(groupID, memberIDs), MemberCount(groupID)
	// and BotsOf(botIDs), read in one go: what a write that adds members
	// decides on (a store that reads over a network saves two round trips).
	Joining(groupID string, memberIDs, botIDs []string) ([]Member, int, []Bot, error)
	// GroupJoining is Group(groupID) and then Joining, in one go: the reads
	// of a member/add (a store that reads over a network saves another round
	// trip). An error of Group's is returned, and the rest then unread.
	GroupJoining(groupID string, memberIDs, botIDs []string) (Group, []Member, int, []Bot, error)
	// Members returns the active members of a group in Pos order.
	Members(groupID string) ([]Member, error)
	// MembersPage returns up to limit active members with Pos > afterPos, in Pos order.
	MembersPage(groupID string, afterPos int64, limit int) ([]Member, error)
	// MemberCount counts the active members of a group.
	MemberCount(groupID string) (int, error)
	// BotMembers returns the ids of the active members of a group that have a Bot record.
	BotMembers(groupID string) ([]string, error)
	// CallbackBots returns, in id order, the ids of the active members of a
	// group that have a Bot record with a Callback.
	CallbackBots(groupID string) ([]string, error)
	// GroupsOfUser returns the ids of the groups userID is an active member of.
	GroupsOfUser(userID string) ([]string, error)
	// Proactive reports whether botID may send proactive messages to groupID (default true).
	Proactive(groupID, botID string) (bool, error)

	Message(uid int64) (Message, error)
	// MessagesOf returns the messages of those of uids that exist, each
	// once, in uid order.
	MessagesOf(uids []int64) ([]Message, error)
	// Messages returns up to limit messages of (groupID, line) with Seq > afterSeq, in order.
	Messages(groupID string, line int, afterSeq int64, limit int) ([]Message, error)
	// MessagesBefore returns up to limit messages of (groupID, line) with Seq <
	// beforeSeq (any Seq when beforeSeq is 0), newest first.
	MessagesBefore(groupID string, line int, beforeSeq int64, limit int) ([]Message, error)

	Event(botID string, seq int64) (Event, error)
	// Events returns up to limit events of botID with Seq > afterSeq, in order.
	Events(botID string, afterSeq int64, limit int) ([]Event, error)
	// LastEventSeq returns the highest Seq ever assigned to botID's events
	// (pruning does not lower it), 0 if none.
	LastEventSeq(botID string) (int64, error)

	// CountReplies counts the bot's messages with that ReplyTo.
	CountReplies(botID, replyTo string) (int, error)
	// CountProactive counts the bot's proactive messages to groupID created at or after since.
	CountProactive(botID, groupID string, since time.Time) (int, error)
}

// Tx reads and writes the model inside one transaction.
type Tx interface {
	Reader

	// PutUser creates or replaces a user.
	PutUser(u User) error
	// PutBot creates or replaces a bot; an AppID taken by another bot is EConflict.
	PutBot(b Bot) error
	// PutGroup creates or replaces a group.
	PutGroup(g Group) error
	// DeleteGroup removes a group, all its member rows and its bots' proactive settings;
	// a missing group is ENotExist. Its timeline stays.
	DeleteGroup(id string) error
	// PutMember creates or replaces a member row; Pos is assigned on first insert and kept after.
	PutMember(m Member) error
	// PutMembers leaves what PutMember of each row in turn leaves (new rows
	// get Pos in the order given; a row given twice keeps its first Pos and
	// its last values), in a few multi-row statements rather than one per
	// row, so a write of thousands of members holds the store briefly.
	PutMembers(ms []Member) error
	SetProactive(groupID, botID string, allowed bool) error
	// RevokeAccessTokens deletes every access token of the bot.
	RevokeAccessTokens(botID string) error

	// AppendMessage appends to the (GroupID, Line) timeline and returns the
	// message with its UID and Seq.
	AppendMessage(m Message) (Message, error)
	// AppendMessageCallbacks is AppendMessage followed by
	// CallbackBots(m.GroupID), in one go: every message is recorded in the
	// event log of its group's callback bots (a store that writes over a
	// network saves a round trip).
	AppendMessageCallbacks(m Message) (Message, []string, error)
	// AppendEvent appends to the bot's event log and returns the event with
	// its Seq, or with Seq 0 in a store that numbers events at the commit
	// (PostgreSQL in a batch: it then holds the bot's counter for the commit
	// only). fn's reads of the log see its own events; in a store that
	// commits several Updates together, the events of the Updates before it
	// may be unseen until the commit (they then get seqs after its own).
	// Seqs follow the order of one fn's appends, per bot, without gaps.
	AppendEvent(e Event) (Event, error)
	// AppendBotMessage records a bot's message; a second one with the same
	// (BotID, ReplyTo, MsgSeq) and a non-empty ReplyTo is EConflict.
	AppendBotMessage(m BotMessage) error

	// UseNonce records a nonce until its expiry; it reports false if it was
	// recorded already and has not expired (expired means expires <= now).
	UseNonce(key string, expires, now time.Time) (bool, error)
}

// Store is where the model lives. Each call of Update is one transaction:
// either all of fn's writes commit or none do. A store may commit several
// concurrent Updates together, but each fn sees the effects of the ones before
// it and a failing fn leaves no write behind.
type Store interface {
	// Update runs fn in a read-write transaction. If fn returns an error the
	// transaction's writes are rolled back and the error is returned; a panic in
	// fn is rolled back and returned as EInternal. fn must not call Update and
	// must not keep tx after it returns. Once fn has run, cancelling ctx does
	// not change the outcome. A store may run fn more than once (after a
	// deadlock, say), so fn must have no effect outside tx but setting its
	// results, and must not use tx from another goroutine.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only snapshot: commits made while fn runs are not visible to it.
	View(ctx context.Context, fn func(Reader) error) error
	// WaitEvents returns a channel that is closed once a commit after the call
	// appended events for botID (on any node, for a shared store); rolled-back
	// events and other bots' events do not close it. It may also close without
	// a new event (a shared store cannot always tell), so the gateway reads
	// the log after every wake.
	WaitEvents(botID string) <-chan struct{}
	Close() error
}
