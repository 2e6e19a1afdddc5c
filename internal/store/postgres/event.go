package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
)

const eventColumns = `bot_id, seq, type, group_id, operator_id, message_uid, created_at, data`

func eventFields(e *group.Event) []any {
	return []any{&e.BotID, &e.Seq, &e.Type, &e.GroupID, &e.OperatorID, &e.MessageUID, msec{&e.CreatedAt}, &e.Data}
}

var (
	selectEvent  = `SELECT ` + eventColumns + ` FROM events WHERE bot_id = $1 AND seq = $2`
	selectEvents = `SELECT ` + eventColumns + ` FROM events
		WHERE bot_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	selectLastEventSeq = `SELECT seq FROM event_seqs WHERE bot_id = $1`
	// The seq comes from the bot's counter row, as a message's from its
	// timeline's (see insertMessage): the gateway reads "after seq N" and
	// must never find N+1 committed before N. A counter rather than max+1 of
	// the log, because Prune may empty the log.
	insertEvent = `WITH next AS (
			INSERT INTO event_seqs AS s (bot_id, seq) VALUES ($1, 1)
			ON CONFLICT (bot_id) DO UPDATE SET seq = s.seq + 1
			RETURNING seq)
		INSERT INTO events (bot_id, seq, type, group_id, operator_id, message_uid, created_at, data)
		SELECT $1, next.seq, $2, $3, $4, $5, $6, $7 FROM next
		RETURNING seq`
)

// Event implements group.Reader.
func (r *reader) Event(botID string, seq int64) (group.Event, error) {
	return getOne(r.c, eventFields, fmt.Sprintf("event %d of bot %q", seq, botID), selectEvent, botID, seq)
}

// Events implements group.Reader. limit < 1 returns no events.
func (r *reader) Events(botID string, afterSeq int64, limit int) ([]group.Event, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, eventFields, fmt.Sprintf("events of bot %q", botID), selectEvents, botID, afterSeq, limit)
}

// LastEventSeq implements group.Reader. It is the last seq handed out, which
// stays after Prune has deleted that event.
func (r *reader) LastEventSeq(botID string) (int64, error) {
	var seq int64
	err := r.c.scanOne(fmt.Sprintf("get last event seq of bot %q", botID), []any{&seq}, selectLastEventSeq, botID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// AppendEvent implements group.Tx. The commit notifies every node (see writer.notify).
func (w *writer) AppendEvent(e group.Event) (group.Event, error) {
	err := w.c.writeRow(fmt.Sprintf("append event for bot %q", e.BotID), []any{&e.Seq}, insertEvent,
		e.BotID, e.Type, e.GroupID, e.OperatorID, e.MessageUID, millis(e.CreatedAt), e.Data)
	if err != nil {
		return group.Event{}, err
	}
	w.evented[e.BotID] = e.Seq
	w.appended++
	return e, nil
}
