package sqlite

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

func sessionColumns(s *group.Session) columns {
	return columns{
		{"id", &s.ID},
		{"bot_id", &s.BotID},
		{"shard_id", &s.ShardID},
		{"shard_count", &s.ShardCount},
		{"intents", &s.Intents},
		{"created_at", millis{&s.CreatedAt}},
		{"updated_at", millis{&s.UpdatedAt}},
		{"cursor_seq", &s.Cursor},
		{"sent_seq", &s.Sent},
		{"conn_id", &s.ConnID},
		{"node", &s.Node},
		{"connected_at", millis{&s.ConnectedAt}},
	}
}

var (
	sessionCols = sessionColumns(new(group.Session))

	selectSession = readSQL(`SELECT ` + sessionCols.list() + ` FROM sessions WHERE id = ?`)
	// By the index (bot_id, updated_at); the id breaks ties, so that one
	// listing is one order.
	selectBotSessions = readSQL(`SELECT ` + sessionCols.list() + ` FROM sessions WHERE bot_id = ?
		ORDER BY updated_at DESC, id LIMIT ?`)
	upsertSession = writeSQL(`INSERT INTO sessions (` + sessionCols.list() + `) VALUES (` + sessionCols.marks() + `)
		ON CONFLICT (id) DO UPDATE SET ` + sessionCols.except("id").assign())
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
		ss, err = getAll(r.(*reader).c, sessionColumns, fmt.Sprintf("sessions of bot %q", botID), selectBotSessions, botID, limit)
		return err
	})
	return ss, err
}

// UpdateSession implements qqbot.Store. The one writer runs the updates of a
// session one after another.
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
			return fmt.Errorf("update session %q: fn returned session %q", id, next.ID)
		}
		return w.putSession(next)
	})
}

func (r *reader) session(id string) (group.Session, error) {
	return getOne(r.c, sessionColumns, fmt.Sprintf("session %q", id), selectSession, id)
}

func (w *writer) putSession(s group.Session) error {
	if _, err := w.c.exec(upsertSession, sessionColumns(&s).ptrs()...); err != nil {
		return fmt.Errorf("put session %q: %w", s.ID, err)
	}
	return nil
}
