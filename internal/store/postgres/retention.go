package postgres

import (
	"context"
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
	pruneEvents = `DELETE FROM events WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneSessions = `DELETE FROM sessions WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM sessions WHERE updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneBotMessages = `DELETE FROM bot_messages WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM bot_messages WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneAccessTokens = `DELETE FROM access_tokens WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM access_tokens WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
	pruneNonces = `DELETE FROM nonces WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM nonces WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`
)

// pruneStatements are the statements of one prune batch.
var pruneStatements = store.PruneStatements{
	Events: pruneEvents, Sessions: pruneSessions, BotMessages: pruneBotMessages,
	AccessTokens: pruneAccessTokens, Nonces: pruneNonces,
}

// Prune implements qqbot.Store: up to limit rows of each kind, oldest first,
// in one Update. A token or nonce has expired when its expiry is not after
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
