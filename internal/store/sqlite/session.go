package sqlite

import (
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
	}
}

var (
	sessionCols = sessionColumns(new(group.Session))

	selectSession = readSQL(`SELECT ` + sessionCols.list() + ` FROM sessions WHERE id = ?`)
	upsertSession = writeSQL(`INSERT INTO sessions (` + sessionCols.list() + `) VALUES (` + sessionCols.marks() + `)
		ON CONFLICT (id) DO UPDATE SET ` + sessionCols.except("id").assign())
)

// Session implements group.Reader.
func (r *reader) Session(id string) (group.Session, error) {
	return getOne(r.c, sessionColumns, fmt.Sprintf("session %q", id), selectSession, id)
}

// PutSession implements group.Tx.
func (w *writer) PutSession(s group.Session) error {
	if _, err := w.c.exec(upsertSession, sessionColumns(&s).ptrs()...); err != nil {
		return fmt.Errorf("put session %q: %w", s.ID, err)
	}
	return nil
}
