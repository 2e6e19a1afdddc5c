package qqbot

import (
	"context"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Store is where the door keeps its own state (access tokens, gateway
// sessions, openid mappings, the openid key) and how it reads the bots'
// event log; it changes the group model only through group.Service. Both
// stores implement it, and internal/app passes one store as the domain's
// group.Store and as this. Every method but View and WaitEvents is one
// transaction; a missing row is an *group.Error with ENotExist.
type Store interface {
	// View runs fn in a read-only snapshot of the model (group.Store.View):
	// the gateway reads the event log and the messages its events name.
	View(ctx context.Context, fn func(group.Reader) error) error
	// WaitEvents is group.Store.WaitEvents.
	WaitEvents(botID string) <-chan struct{}
	// FeedEvents returns a feed of the bot's events committed from now on in
	// this process (group.EventFeed): a gateway session that is caught up
	// sends them without reading the log. A store that hands nothing returns
	// a feed whose Take always reports lost or a woken past what it handed.
	FeedEvents(botID string) group.EventFeed

	// AccessToken returns the access token token.
	AccessToken(ctx context.Context, token string) (group.AccessToken, error)
	// LatestAccessToken returns the bot's access token that expires last.
	LatestAccessToken(ctx context.Context, botID string) (group.AccessToken, error)
	// IssueAccessToken returns the latest access token of t.BotID if it
	// expires after reuseAfter; else it stores t and returns it. The check
	// and the write are one transaction, so a request that finds a token
	// another one has just stored returns that token.
	IssueAccessToken(ctx context.Context, t group.AccessToken, reuseAfter time.Time) (group.AccessToken, error)

	// Session returns the gateway session id.
	Session(ctx context.Context, id string) (group.Session, error)
	// BotSessions returns the bot's sessions, the last updated first, at
	// most limit (below 1: none). It only reads.
	BotSessions(ctx context.Context, botID string, limit int) ([]group.Session, error)
	// UpdateSession decides a change of session id in one read-write
	// transaction: fn gets the stored session (found false if there is
	// none) and a Reader of the same transaction, and returns the session to
	// store (with the same ID) and whether to store it. An error from fn
	// stores nothing and is returned; a panic in fn is EInternal. The stored
	// session is locked for the transaction (PostgreSQL; SQLite has one
	// writer), so the updates of one session, on any node, happen one after
	// another, each deciding on what the one before stored. A store may run
	// fn more than once, so it must have no effect but setting its results.
	UpdateSession(ctx context.Context, id string,
		fn func(r group.Reader, cur group.Session, found bool) (next group.Session, put bool, err error)) error

	// OpenIDs returns the stored mappings of those of openIDs botID has, in
	// no particular order; the others are not stored.
	OpenIDs(ctx context.Context, botID string, openIDs []string) ([]group.OpenID, error)
	// PutOpenIDs stores mappings; one stored already keeps its mapping.
	PutOpenIDs(ctx context.Context, ms []group.OpenID) error

	// Setting returns the value of a server setting.
	Setting(ctx context.Context, key string) (string, error)
	// CreateSetting sets key to value unless it has a value already, and
	// returns the value it has then: of several nodes creating one key at
	// once, every one gets the value the first stored.
	CreateSetting(ctx context.Context, key, value string) (string, error)

	// Prune deletes, oldest first and at most limit rows of each kind, the
	// events created before eventsBefore, the sessions not updated since
	// sessionsBefore, the bot messages created before botMessagesBefore, and
	// the access tokens and nonces expired at now (expiry not after now). It
	// returns how many rows it deleted in all; a limit below 1 deletes
	// nothing. Event seqs are unaffected. The limit keeps the transaction
	// short: a caller clears a backlog with one call per batch until a call
	// deletes fewer than limit rows.
	Prune(ctx context.Context, eventsBefore, sessionsBefore, botMessagesBefore, now time.Time, limit int) (deleted int, err error)
}

// BurstReader is what a Store may also implement to read a burst of a bot's
// log in one go, where a View costs several round trips (PostgreSQL): up to
// limit of the bot's events after afterSeq in seq order, each at-event with
// the message it names (Message nil if that is gone), the events and their
// messages as of one moment; and the bot's user (the zero User if there is
// none), read then or later. A gateway session reads the log with it when
// the store has it, else with View.
type BurstReader interface {
	EventBurst(ctx context.Context, botID string, afterSeq int64, limit int) ([]group.CommittedEvent, group.User, error)
}
