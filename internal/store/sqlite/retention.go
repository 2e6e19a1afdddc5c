package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/store"
)

// Each prune statement deletes the oldest rows of one table past a cutoff
// (?1), at most ?2 of them, walking the index on the cutoff column: a bounded
// batch, so that one Prune holds the writer briefly however large the
// backlog is.
var (
	pruneSessions = writeSQL(`DELETE FROM sessions WHERE id IN
		(SELECT id FROM sessions WHERE updated_at < ?1 ORDER BY updated_at LIMIT ?2)`)
	pruneBotMessages = writeSQL(`DELETE FROM bot_messages WHERE id IN
		(SELECT id FROM bot_messages WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)`)
	pruneAccessTokens = writeSQL(`DELETE FROM access_tokens WHERE token IN
		(SELECT token FROM access_tokens WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`)
	pruneNonces = writeSQL(`DELETE FROM nonces WHERE key IN
		(SELECT key FROM nonces WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`)
)

// Events have no index on created_at (migration 0011): every event paid for
// one in the single writer, and only retention read it. They are pruned by
// seq instead. A bot's seqs are handed out by the single writer in the order
// its Updates run, and an event's created_at is its Update's clock, so a
// bot's events past the cutoff are the start of its log. Prune finds them in
// a read of its own, off the writer: for each bot whose first event is past
// the cutoff, the run of events from its first that are all past it,
// walking the primary key and stopping at the first that is not (or at the
// batch's limit); its Update deletes each run by its last seq.
//
// A created_at that goes back along the seqs (a clock stepped back, or two
// Updates queued in the other order than their clocks read) only delays: an
// event past the cutoff behind one that is not is kept until that one is
// past it too. So no event within the retention is deleted, and what is
// left of a bot's log is one unbroken run of seqs ending at its last.
var (
	selectEventHeads = readSQL(`SELECT bot_id FROM event_seqs AS s
		WHERE (SELECT created_at FROM events AS e WHERE e.bot_id = s.bot_id ORDER BY e.seq LIMIT 1) < ?1
		ORDER BY bot_id LIMIT ?2`)
	selectEventRun = readSQL(`SELECT seq, created_at FROM events WHERE bot_id = ? ORDER BY seq LIMIT ?`)
	pruneEventRun  = writeSQL(`DELETE FROM events WHERE bot_id = ? AND seq <= ?`)
)

// pruneStatements are the statements of one prune batch; events are pruned
// by oldEventRuns and pruneEventRuns.
var pruneStatements = store.PruneStatements{
	Sessions: pruneSessions, BotMessages: pruneBotMessages,
	AccessTokens: pruneAccessTokens, Nonces: pruneNonces,
}

// Prune implements qqbot.Store: up to limit rows of each kind, oldest first
// (events: oldest first within each bot, the bots in id order), in one
// Update. A token or nonce has expired when its expiry is not after now.
// Event seqs are unaffected: the next event continues after the pruned ones.
func (s *Store) Prune(ctx context.Context, eventsBefore, sessionsBefore, botMessagesBefore, now time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	// The runs stay past the cutoff until the Update deletes them: an
	// event never changes, and a new one takes a seq after every run.
	runs, err := viewOne(ctx, s, func(r *reader) ([]eventRun, error) { return r.oldEventRuns(eventsBefore, limit) })
	if err != nil {
		return 0, err
	}
	cutoffs := store.PruneCutoffs{EventsBefore: eventsBefore, SessionsBefore: sessionsBefore,
		BotMessagesBefore: botMessagesBefore, Now: now}
	return updateOne(ctx, s, func(w *writer) (int, error) {
		n, err := w.pruneEventRuns(runs)
		if err != nil {
			return 0, err
		}
		m, err := w.prune(cutoffs, limit)
		return n + m, err
	})
}

// eventRun is the start of a bot's log past a cutoff: its events up to last, n of them.
type eventRun struct {
	botID string
	last  int64
	n     int
}

// errRunEnd stops the walk of a bot's log at its first event not past the cutoff.
var errRunEnd = errors.New("end of the run")

// oldEventRuns returns the runs of at most limit events in all past before,
// each bot's from its first event.
func (r *reader) oldEventRuns(before time.Time, limit int) ([]eventRun, error) {
	cutoff := before.UnixMilli()
	var bots []string
	err := r.c.eachRow(func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		bots = append(bots, id)
		return nil
	}, selectEventHeads, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("prune events: %w", err)
	}
	var runs []eventRun
	for _, id := range bots {
		if limit == 0 {
			break
		}
		run := eventRun{botID: id}
		err := r.c.eachRow(func(rows *sql.Rows) error {
			var seq, created int64
			if err := rows.Scan(&seq, &created); err != nil {
				return err
			}
			if created >= cutoff {
				return errRunEnd
			}
			run.last, run.n = seq, run.n+1
			return nil
		}, selectEventRun, id, limit)
		if err != nil && !errors.Is(err, errRunEnd) {
			return nil, fmt.Errorf("prune events of bot %q: %w", id, err)
		}
		if run.n > 0 {
			runs = append(runs, run)
			limit -= run.n
		}
	}
	return runs, nil
}

// pruneEventRuns deletes the runs and returns how many events it deleted.
func (w *writer) pruneEventRuns(runs []eventRun) (int, error) {
	deleted := 0
	for _, run := range runs {
		res, err := w.c.exec(pruneEventRun, run.botID, run.last)
		if err != nil {
			return 0, fmt.Errorf("prune events of bot %q: %w", run.botID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("prune events of bot %q: %w", run.botID, err)
		}
		deleted += int(n)
	}
	return deleted, nil
}

// prune runs one prune batch of the kinds other than events in w.
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
