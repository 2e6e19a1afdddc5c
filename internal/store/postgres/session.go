package postgres

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

const sessionColumns = `id, bot_id, shard_id, shard_count, intents, created_at, updated_at, cursor_seq, sent_seq, conn_id, node, connected_at`

func sessionFields(s *group.Session) []any {
	return []any{&s.ID, &s.BotID, &s.ShardID, &s.ShardCount, &s.Intents, msec{&s.CreatedAt}, msec{&s.UpdatedAt},
		&s.Cursor, &s.Sent, &s.ConnID, &s.Node, msec{&s.ConnectedAt}}
}

var (
	// A session is read, changed and put back on every identify, resume and
	// touch; in an Update its row is locked, so that a touch's check of
	// conn_id and its write are one step against a concurrent resume.
	selectSession = keyed(`SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, 0)
	upsertSession = `INSERT INTO sessions (` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, shard_id = excluded.shard_id,
			shard_count = excluded.shard_count, intents = excluded.intents,
			created_at = excluded.created_at, updated_at = excluded.updated_at,
			cursor_seq = excluded.cursor_seq, sent_seq = excluded.sent_seq, conn_id = excluded.conn_id,
			node = excluded.node, connected_at = excluded.connected_at`
	// By the index (bot_id, updated_at); the id breaks ties, so that one
	// listing is one order.
	selectBotSessions = `SELECT ` + sessionColumns + ` FROM sessions WHERE bot_id = $1
		ORDER BY updated_at DESC, id LIMIT $2`
)

// Session implements qqbot.Store.
func (s *Store) Session(ctx context.Context, id string) (group.Session, error) {
	return viewOne(ctx, s, func(r *reader) (group.Session, error) { return r.session(id) })
}

// BotSessions implements qqbot.Store.
func (s *Store) BotSessions(ctx context.Context, botID string, limit int) ([]group.Session, error) {
	if limit < 1 {
		return nil, nil
	}
	var ss []group.Session
	err := s.View(ctx, func(r group.Reader) (err error) {
		ss, err = getAll(r.(*reader).c, sessionFields, fmt.Sprintf("sessions of bot %q", botID), selectBotSessions, botID, limit)
		return err
	})
	return ss, err
}

// UpdateSession implements qqbot.Store. The session's row is read FOR
// UPDATE: an update of it on another node waits for this one to commit, then
// reads what it stored.
func (s *Store) UpdateSession(ctx context.Context, id string,
	fn func(r group.Reader, cur group.Session, found bool) (group.Session, bool, error)) error {
	return s.update(ctx, func(w *writer) error {
		cur, err := w.session(id)
		found := err == nil
		if err != nil && !group.IsNotExist(err) {
			return err
		}
		next, put, err := fn(w, cur, found)
		if err != nil || !put {
			return err
		}
		if next.ID != id {
			return fmt.Errorf("postgres: update session %q: fn returned session %q", id, next.ID)
		}
		return w.putSession(next)
	})
}

func (r *reader) session(id string) (group.Session, error) {
	return getKeyed(r.c, sessionFields, fmt.Sprintf("session %q", id), selectSession, id, id)
}

func (w *writer) putSession(s group.Session) error {
	_, err := w.c.exec(fmt.Sprintf("put session %q", s.ID), upsertSession, sessionFields(&s)...)
	return err
}
