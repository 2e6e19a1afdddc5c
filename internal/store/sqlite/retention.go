package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/store"
)

// Each prune statement deletes the oldest rows of one table past a cutoff
// (?1), at most ?2 of them, walking the index on the cutoff column: a bounded
// batch, so that one Prune holds the writer briefly however large the
// backlog is.
var (
	pruneEvents = writeSQL(`DELETE FROM events WHERE (bot_id, seq) IN
		(SELECT bot_id, seq FROM events WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)`)
	pruneSessions = writeSQL(`DELETE FROM sessions WHERE id IN
		(SELECT id FROM sessions WHERE updated_at < ?1 ORDER BY updated_at LIMIT ?2)`)
	pruneBotMessages = writeSQL(`DELETE FROM bot_messages WHERE id IN
		(SELECT id FROM bot_messages WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)`)
	pruneAccessTokens = writeSQL(`DELETE FROM access_tokens WHERE token IN
		(SELECT token FROM access_tokens WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`)
	pruneNonces = writeSQL(`DELETE FROM nonces WHERE key IN
		(SELECT key FROM nonces WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`)
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
		res, err := w.c.exec(q, cutoff.UnixMilli(), limit)
		if err != nil {
			return 0, fmt.Errorf("prune %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("prune %s: %w", what, err)
		}
		return n, nil
	})
}
