package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
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
)

// appendEventsSQL numbers and inserts the events of a transaction, in their
// order per bot, and returns each bot's last seq. The seqs come from the
// bot's counter row, as a message's from its timeline's (see insertMessage):
// the gateway reads "after seq N" and must never find N+1 committed before
// N. A counter rather than max+1 of the log, because Prune may empty the log. The counter rows are taken in bot
// id order, so that the commits of two lanes cannot deadlock on them.
const appendEventsSQL = `WITH
	e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
		WITH ORDINALITY AS e(bot_id, type, group_id, operator_id, message_uid, created_at, data, ord)),
	n AS (SELECT bot_id, count(*) AS n FROM e GROUP BY bot_id),
	s AS (INSERT INTO event_seqs AS s (bot_id, seq) SELECT bot_id, n FROM n ORDER BY bot_id
		ON CONFLICT (bot_id) DO UPDATE SET seq = s.seq + excluded.seq
		RETURNING bot_id, seq),
	i AS (INSERT INTO events (bot_id, seq, type, group_id, operator_id, message_uid, created_at, data)
		SELECT e.bot_id, s.seq - n.n + row_number() OVER (PARTITION BY e.bot_id ORDER BY e.ord),
			e.type, e.group_id, e.operator_id, e.message_uid, e.created_at, e.data
		FROM e JOIN n USING (bot_id) JOIN s USING (bot_id))
	SELECT bot_id, seq FROM s`

// appendEventsArgs are appendEventsSQL's arguments for events.
func appendEventsArgs(events []group.Event) []any {
	n := len(events)
	bots, types, groups, operators, datas := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	uids, ats := make([]int64, n), make([]int64, n)
	for i, e := range events {
		bots[i], types[i], groups[i], operators[i], datas[i] = e.BotID, string(e.Type), e.GroupID, e.OperatorID, e.Data
		uids[i], ats[i] = e.MessageUID, millis(e.CreatedAt)
	}
	return []any{bots, types, groups, operators, uids, ats, datas}
}

// appendEvents inserts events, in order, on p and sets evented to each bot's
// last seq.
func appendEvents(ctx context.Context, p statements, events []group.Event, evented map[string]int64) error {
	rows, err := p.Query(ctx, appendEventsSQL, appendEventsArgs(events)...)
	if err != nil {
		return err
	}
	return scanEvented(rows, evented)
}

// scanEvented sets evented to the (bot, last seq) rows of appendEventsSQL,
// and closes rows.
func scanEvented(rows pgx.Rows, evented map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var bot string
		var seq int64
		if err := rows.Scan(&bot, &seq); err != nil {
			return err
		}
		evented[bot] = seq
	}
	return rows.Err()
}

// notifySeqsSQL notifies, for each bot of $2, the last seq its counter row
// holds: read in the transaction that wrote the row (and holds its lock),
// the last seq this transaction appended.
const notifySeqsSQL = `SELECT pg_notify($1, seq::text || ' ' || bot_id) FROM event_seqs WHERE bot_id = ANY($2::text[])`

// commitEvents commits p's transaction in one round trip with what is
// queued, the statement that numbers and inserts events (if any), and the
// notification of every bot that got events, evented's and events': the
// counter rows appendEventsSQL locks are then held from that statement to the
// end of the commit without a round trip back to the client in between,
// which on a hot bot is the time every other commit that appends for it
// waits. It sets evented to each bot's last seq. before reports that err
// came before the COMMIT, which then did not run (PostgreSQL skips the rest
// of a pipeline after a failed statement): nothing was committed. Any
// other error leaves the outcome unknown.
func commitEvents(ctx context.Context, p *pipe, channel string, events []group.Event, evented map[string]int64) (tag pgconn.CommandTag, before bool, err error) {
	bots := make([]string, 0, len(evented)+1)
	for bot := range evented {
		bots = append(bots, bot)
	}
	for _, e := range events {
		if _, ok := evented[e.BotID]; !ok && !slices.Contains(bots, e.BotID) {
			bots = append(bots, e.BotID)
		}
	}
	br, err := p.sendAll(ctx, func(b *pgx.Batch) {
		if len(events) > 0 {
			b.Queue(appendEventsSQL, appendEventsArgs(events)...)
		}
		b.Queue(notifySeqsSQL, channel, bots)
		b.Queue(`COMMIT`)
	})
	if err != nil {
		return tag, isServerError(err), err // a queued statement's
	}
	defer br.Close()
	if len(events) > 0 {
		rows, err := br.Query()
		if err == nil {
			err = scanEvented(rows, evented)
		}
		if err != nil {
			return tag, isServerError(err), err
		}
	}
	if _, err := br.Exec(); err != nil {
		return tag, isServerError(err), err
	}
	tag, err = br.Exec()
	if err == nil {
		err = br.Close()
	}
	return tag, false, err
}

// isServerError reports whether err is PostgreSQL's answer to a statement
// (which then failed), not a failure to get one.
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// flushEvents numbers and inserts the events w holds for the commit, if one
// of them is botID's, so that w reads its own writes.
func (w *writer) flushEvents(botID string) error {
	if !slices.ContainsFunc(w.events, func(e group.Event) bool { return e.BotID == botID }) {
		return nil
	}
	if err := appendEvents(w.c.ctx, w.c.tx, w.events, w.evented); err != nil {
		return w.c.fail(fmt.Sprintf("append events for bot %q", botID), err)
	}
	w.events = w.events[:0]
	return nil
}

// Event implements group.Tx: the events w appended included.
func (w *writer) Event(botID string, seq int64) (group.Event, error) {
	if err := w.flushEvents(botID); err != nil {
		return group.Event{}, err
	}
	return w.reader.Event(botID, seq)
}

// Events implements group.Tx: the events w appended included.
func (w *writer) Events(botID string, afterSeq int64, limit int) ([]group.Event, error) {
	if err := w.flushEvents(botID); err != nil {
		return nil, err
	}
	return w.reader.Events(botID, afterSeq, limit)
}

// LastEventSeq implements group.Tx: the events w appended included.
func (w *writer) LastEventSeq(botID string) (int64, error) {
	if err := w.flushEvents(botID); err != nil {
		return 0, err
	}
	return w.reader.LastEventSeq(botID)
}

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

// AppendEvent implements group.Tx. The event waits for the end of the
// transaction (or a read of its bot's log by the same Update, flushEvents),
// where one statement numbers and inserts the events of every Update of the
// transaction (appendEvents): the Seq returned is 0. A bot's counter row is
// locked from the moment its seq is taken to the commit, and every
// transaction that appends for that bot waits for it; taken at the end, it
// is held for the commit only, transactions on other lanes run side by side
// up to theirs, and the counters are taken in bot id order. The commit
// notifies every node (see writer.notify).
func (w *writer) AppendEvent(e group.Event) (group.Event, error) {
	if !store.ValidArgs(e.BotID, e.Type, e.GroupID, e.OperatorID, e.Data) {
		return group.Event{}, store.InvalidText(fmt.Sprintf("append event for bot %q", e.BotID))
	}
	w.events = append(w.events, e)
	w.appended++
	return e, nil
}

// selectEventBurst reads a bot's events after a seq with the message each
// at-event names (NULLs for the others, or a message that is gone): one
// statement, so one snapshot, in which every event's message committed with
// it is seen with it.
var selectEventBurst = `SELECT e.bot_id, e.seq, e.type, e.group_id, e.operator_id, e.message_uid, e.created_at, e.data,
		m.uid IS NOT NULL, coalesce(m.uid, 0), coalesce(m.group_id, ''), coalesce(m.line, 0), coalesce(m.seq, 0),
		coalesce(m.sender, ''), m.payload, coalesce(m.created_at, 0)
	FROM (SELECT ` + eventColumns + ` FROM events WHERE bot_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS e
	LEFT JOIN messages m ON e.type = '` + string(group.EventAtMessage) + `' AND m.uid = e.message_uid
	ORDER BY e.seq`

// EventBurst reads up to limit of the bot's events after afterSeq, each
// at-event with its message (Message nil if it is gone), and the bot's user
// (the zero User if there is none), in one round trip and without a
// transaction: the events and their messages in one statement, the user in
// a second one of the same batch. The gateway reads a burst with it on
// every wake (qqbot.Store's optional EventBurst); a View would take four
// round trips (BEGIN with the events, the user, the messages, ROLLBACK).
func (s *Store) EventBurst(ctx context.Context, botID string, afterSeq int64, limit int) ([]group.CommittedEvent, group.User, error) {
	if s.closed.Load() {
		return nil, group.User{}, ErrClosed
	}
	if limit < 1 {
		return nil, group.User{}, nil
	}
	var evs []group.CommittedEvent
	var users []group.User
	takeEvents := func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var ce group.CommittedEvent
			var m group.Message
			var found bool
			var raw []byte
			dest := append(eventFields(&ce.Event), &found, &m.UID, &m.GroupID, &m.Line, &m.Seq, &m.Sender, &raw, msec{&m.CreatedAt})
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if found {
				p, err := store.ScanPayload(raw)
				if err != nil {
					return err
				}
				m.Payload = p
				ce.Message = &m
			}
			evs = append(evs, ce)
		}
		return rows.Err()
	}
	c := &dbtx{ctx: ctx, tx: s.pool}
	err := c.reads(
		read{fmt.Sprintf("events of bot %q", botID), selectEventBurst, []any{botID, afterSeq, limit}, takeEvents},
		read{fmt.Sprintf("user %q", botID), selectUser.q, []any{botID}, into(&users, userFields)})
	if err != nil {
		if s.closed.Load() {
			return nil, group.User{}, ErrClosed
		}
		return nil, group.User{}, err
	}
	var u group.User
	if len(users) > 0 {
		u = users[0]
	}
	return evs, u, nil
}
