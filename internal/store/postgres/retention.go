package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/store"
)

// Each prune statement deletes the oldest rows of one table past a cutoff
// ($1), at most $2 of them: the subquery walks the index on the cutoff column
// and the delete finds the rows by ctid, so a batch costs its own size, not a
// scan of the table, however large the backlog.
//
// The subquery locks the rows it picks, which keeps their ctids until the
// transaction ends and lets two nodes pruning at once delete each row once.
// It skips rows another transaction has locked (a session being resumed, a
// nonce being renewed, another node's batch) instead of waiting for them:
// they are pruned next time if they are still old. A row changed by a commit
// after the statement began is checked against the cutoff again as it is
// locked, so a session refreshed meanwhile is kept.
const (
	pruneSessions = `DELETE FROM sessions WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM sessions WHERE updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneBotMessages = `DELETE FROM bot_messages WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM bot_messages WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneAccessTokens = `DELETE FROM access_tokens WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM access_tokens WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneNonces = `DELETE FROM nonces WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM nonces WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
)

// Events are pruned by seq, each bot's log as a prefix, not by created_at
// (which has no index since migration 0012): an event's created_at is its
// node's clock when it was appended, and a clock stepped back or two nodes'
// clocks that disagree put an old event behind a younger one. Deleting it
// would leave a hole inside the log, which the gateway's resume (it checks
// only the first event it missed) replays past without a word. Walking
// from the head instead, such an event is kept until the younger one before
// it is past the cutoff too, and what is left of a bot's log is one unbroken
// run of seqs ending at its last.
//
// pruneEvents walks the bots in id order (walk), each one whose first event
// is past the cutoff ($1): its run is the events from that first one up to
// the first not past the cutoff, at most the batch's budget, which starts at
// $2 and goes down by each run's length in seqs (at least its events: seqs
// are dense, and holes only shorten a run) until it is spent. Each step
// probes the (bot_id, seq) primary key: the next bot of event_seqs with an
// old head, the run's first young event within the budget or else its last
// event within it. The delete then finds the runs' rows by key and deletes
// them by ctid, at most $2 in all.
//
// All of it reads one snapshot: an event committed after it began is not
// deleted (it is not seen), and it would lie after every run anyway, its seq
// numbered at its commit under the bot's counter row, after every seq the
// snapshot holds. A bot's events are never updated, so the walk's reads hold
// until the delete; two nodes pruning at once delete each row once (the
// second waits for the first's delete of a row, then finds it gone).
const (
	// eventHead is the next bot, in id order from where the walk is
	// (condition on s.bot_id), whose first event is past the cutoff.
	eventHead = `LATERAL (SELECT s.bot_id, f.seq AS first FROM event_seqs AS s
			CROSS JOIN LATERAL (SELECT seq, created_at FROM events AS e WHERE e.bot_id = s.bot_id ORDER BY e.seq LIMIT 1) AS f
			WHERE %s AND f.created_at < $1 ORDER BY s.bot_id LIMIT 1) AS h`
	// eventRun is where the head bot's run stops (its first seq after
	// it), within the budget (w.budget seqs from its first). OFFSET 0
	// keeps the planner from inlining it into both stop and budget, which
	// made each probe twice.
	eventRun = `CROSS JOIN LATERAL (SELECT coalesce(
			(SELECT e.seq FROM events AS e WHERE e.bot_id = h.bot_id AND e.seq > h.first AND e.seq < h.first + w.budget
				AND e.created_at >= $1 ORDER BY e.seq LIMIT 1),
			(SELECT e.seq + 1 FROM events AS e WHERE e.bot_id = h.bot_id AND e.seq < h.first + w.budget
				ORDER BY e.seq DESC LIMIT 1)) AS stop OFFSET 0) AS r`
)

var pruneEvents = `WITH RECURSIVE walk (bot_id, first, stop, budget) AS (
		SELECT h.bot_id, h.first, r.stop, w.budget - (r.stop - h.first)
		FROM (SELECT $2::bigint AS budget) AS w CROSS JOIN ` + fmt.Sprintf(eventHead, "true") + ` ` + eventRun + `
		UNION ALL
		SELECT h.bot_id, h.first, r.stop, w.budget - (r.stop - h.first)
		FROM walk AS w CROSS JOIN ` + fmt.Sprintf(eventHead, "s.bot_id > w.bot_id") + ` ` + eventRun + `
		WHERE w.budget > 0)
	DELETE FROM events WHERE ctid = ANY(ARRAY(
		SELECT e.ctid FROM walk AS w
		CROSS JOIN LATERAL (SELECT ctid FROM events AS e WHERE e.bot_id = w.bot_id AND e.seq >= w.first AND e.seq < w.stop
			ORDER BY e.seq LIMIT $2) AS e))`

// pruneStatements are the statements of one prune batch.
var pruneStatements = store.PruneStatements{
	Events: pruneEvents, Sessions: pruneSessions, BotMessages: pruneBotMessages,
	AccessTokens: pruneAccessTokens, Nonces: pruneNonces,
}

// Prune implements qqbot.Store: up to limit rows of each kind, oldest first
// (events: oldest first within each bot, the bots in id order), in one
// Update. A token or nonce has expired when its expiry is not after
// now. Event seqs are unaffected: the next event continues after the pruned
// ones.
func (s *Store) Prune(ctx context.Context, eventsBefore, sessionsBefore, botMessagesBefore, now time.Time, limit int) (int, error) {
	cutoffs := store.PruneCutoffs{EventsBefore: eventsBefore, SessionsBefore: sessionsBefore,
		BotMessagesBefore: botMessagesBefore, Now: now}
	return updateOne(ctx, s, func(w *writer) (int, error) { return w.prune(cutoffs, limit) })
}

// prune runs one prune batch in w.
func (w *writer) prune(cutoffs store.PruneCutoffs, limit int) (int, error) {
	return store.PruneBatch(pruneStatements, cutoffs, limit, func(what, q string, cutoff time.Time, limit int) (int64, error) {
		tag, err := w.c.exec("prune "+what, q, millis(cutoff), limit)
		return tag.RowsAffected(), err
	})
}
