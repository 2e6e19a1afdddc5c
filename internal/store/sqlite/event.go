package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

func eventColumns(e *group.Event) columns {
	return columns{
		{"bot_id", &e.BotID},
		{"seq", &e.Seq},
		{"type", &e.Type},
		{"group_id", &e.GroupID},
		{"operator_id", &e.OperatorID},
		{"message_uid", &e.MessageUID},
		{"created_at", millis{&e.CreatedAt}},
		{"data", &e.Data},
	}
}

var (
	eventCols = eventColumns(new(group.Event))

	selectEvent  = readSQL(`SELECT ` + eventCols.list() + ` FROM events WHERE bot_id = ? AND seq = ?`)
	selectEvents = readSQL(`SELECT ` + eventCols.list() + ` FROM events
		WHERE bot_id = ? AND seq > ? ORDER BY seq LIMIT ?`)
	selectLastEventSeq = readSQL(`SELECT seq FROM event_seqs WHERE bot_id = ?`)
	// The seq comes from a counter, not max+1 of the log: Prune may empty
	// the log, and a seq must never be handed out twice. The writer's cache
	// advances it and writes it once per transaction (cache.flush).
	putEventSeq = writeSQL(`INSERT INTO event_seqs (bot_id, seq) VALUES (?, ?)
		ON CONFLICT (bot_id) DO UPDATE SET seq = excluded.seq`)
	// The events of a transaction are inserted at its end (cache.flush),
	// in as few statements as bulk allows, bound to eventValues. AppendEvent
	// has checked their text.
	insertEvents = bulk(checkedWriteSQL, `INSERT INTO events (`+eventCols.list()+`) VALUES `, `(`+eventCols.marks()+`)`, ``)
)

// eventValues appends e's columns, in eventCols' order, as the driver's
// own values: bound through eventColumns' pointers, database/sql converts
// each by reflection (a fifth of the insert's CPU).
func eventValues(args []any, e *group.Event) []any {
	return append(args, e.BotID, e.Seq, string(e.Type), e.GroupID, e.OperatorID, e.MessageUID, e.CreatedAt.UnixMilli(), e.Data)
}

// Event implements group.Reader.
func (r *reader) Event(botID string, seq int64) (group.Event, error) {
	return getOne(r.c, eventColumns, fmt.Sprintf("event %d of bot %q", seq, botID), selectEvent, botID, seq)
}

// Events implements group.Reader. limit < 1 returns no events.
func (r *reader) Events(botID string, afterSeq int64, limit int) ([]group.Event, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, eventColumns, fmt.Sprintf("events of bot %q", botID), selectEvents, botID, afterSeq, limit)
}

// LastEventSeq implements group.Reader. It is the last seq handed out, which
// stays after Prune has deleted that event.
func (r *reader) LastEventSeq(botID string) (int64, error) {
	var seq int64
	err := r.c.scanOne([]any{&seq}, selectLastEventSeq, botID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get last event seq of bot %q: %w", botID, err)
	}
	return seq, nil
}

// AppendEvent implements group.Tx. Its text is checked before the seq is
// taken, so a refused event leaves no trace.
//
// The event is numbered now and inserted with the transaction's other
// events when it commits (cache.flush), after the last Update's savepoint:
// inserted inside each Update's savepoint, every event copied its page of
// the log to the savepoint's journal and ran a statement of its own
// (BenchmarkAppendEvent: an event cost the writer 17.6 µs more than its
// message that way, 12.0 this way). The writer's reads of the log (Event,
// Events) see the events not inserted yet.
func (w *writer) AppendEvent(e group.Event) (group.Event, error) {
	if !store.ValidArgs(eventColumns(&e).ptrs()...) {
		return group.Event{}, store.InvalidText(fmt.Sprintf("append event for bot %q", e.BotID))
	}
	var err error
	if e.Seq, err = w.nextEventSeq(e.BotID); err != nil {
		return group.Event{}, fmt.Errorf("append event for bot %q: %w", e.BotID, err)
	}
	w.cache.appendEvent(e)
	if w.evented == nil {
		w.evented = make(map[string]int64)
	}
	w.evented[e.BotID] = e.Seq
	w.appended++
	w.hand(e)
	return e, nil
}

// Event implements group.Tx: the events of the transaction not inserted yet included.
func (w *writer) Event(botID string, seq int64) (group.Event, error) {
	for _, e := range w.cache.events {
		if e.BotID == botID && e.Seq == seq {
			return asReadEvent(e), nil
		}
	}
	return w.reader.Event(botID, seq)
}

// Events implements group.Tx: the events of the transaction not inserted
// yet included. They come after every event of their bot in the log.
func (w *writer) Events(botID string, afterSeq int64, limit int) ([]group.Event, error) {
	evs, err := w.reader.Events(botID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	for _, e := range w.cache.events {
		if len(evs) >= limit {
			break
		}
		if e.BotID == botID && e.Seq > afterSeq {
			evs = append(evs, asReadEvent(e))
		}
	}
	return evs, nil
}

// asReadEvent is e as the log gives it back.
func asReadEvent(e group.Event) group.Event {
	e.CreatedAt = asRead(e.CreatedAt)
	return e
}

// hand records e, as the log gives it back, for the bot's feeds, with its
// message if this Update appended it.
func (w *writer) hand(e group.Event) {
	c := store.Committed{Event: asReadEvent(e)}
	if e.MessageUID != 0 {
		if m, ok := w.msgs[e.MessageUID]; ok {
			c.Message = &m
		}
	}
	if w.handed == nil {
		w.handed = make(map[string][]store.Committed)
	}
	w.handed[e.BotID] = append(w.handed[e.BotID], c)
}
