package sqlite

import (
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func accessTokenColumns(t *group.AccessToken) columns {
	return columns{
		{"token", &t.Token},
		{"bot_id", &t.BotID},
		{"expires_at", millis{&t.ExpiresAt}},
		{"created_at", millis{&t.CreatedAt}},
	}
}

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

func openIDColumns(o *group.OpenID) columns {
	return columns{
		{"bot_id", &o.BotID},
		{"openid", &o.OpenID},
		{"kind", &o.Kind},
		{"internal_id", &o.InternalID},
	}
}

func botMessageColumns(m *group.BotMessage) columns {
	return columns{
		{"bot_id", &m.BotID},
		{"group_id", &m.GroupID},
		{"message_uid", &m.MessageUID},
		{"reply_to", &m.ReplyTo},
		{"msg_seq", &m.MsgSeq},
		{"created_at", millis{&m.CreatedAt}},
	}
}

var (
	accessTokenCols = accessTokenColumns(new(group.AccessToken))
	sessionCols     = sessionColumns(new(group.Session))
	openIDCols      = openIDColumns(new(group.OpenID))
	botMessageCols  = botMessageColumns(new(group.BotMessage))

	selectAccessToken       = readSQL(`SELECT ` + accessTokenCols.list() + ` FROM access_tokens WHERE token = ?`)
	selectLatestAccessToken = readSQL(`SELECT ` + accessTokenCols.list() + ` FROM access_tokens
		WHERE bot_id = ? ORDER BY expires_at DESC, created_at DESC, token DESC LIMIT 1`)
	upsertAccessToken = writeSQL(`INSERT INTO access_tokens (` + accessTokenCols.list() + `) VALUES (` + accessTokenCols.marks() + `)
		ON CONFLICT (token) DO UPDATE SET ` + accessTokenCols.except("token").assign())

	selectSession = readSQL(`SELECT ` + sessionCols.list() + ` FROM sessions WHERE id = ?`)
	upsertSession = writeSQL(`INSERT INTO sessions (` + sessionCols.list() + `) VALUES (` + sessionCols.marks() + `)
		ON CONFLICT (id) DO UPDATE SET ` + sessionCols.except("id").assign())

	selectOpenID = readSQL(`SELECT ` + openIDCols.list() + ` FROM openids WHERE bot_id = ? AND openid = ?`)
	insertOpenID = writeSQL(`INSERT INTO openids (` + openIDCols.list() + `) VALUES (` + openIDCols.marks() + `)
		ON CONFLICT (bot_id, openid) DO NOTHING`)

	insertBotMessage = writeSQL(`INSERT INTO bot_messages (` + botMessageCols.list() + `) VALUES (` + botMessageCols.marks() + `)`)
	// "reply_to <> ''" lets SQLite use the partial index; "" is no reply.
	countReplies = readSQL(`SELECT count(*) FROM bot_messages
		WHERE bot_id = ? AND reply_to = ? AND reply_to <> ''`)
	countProactive = readSQL(`SELECT count(*) FROM bot_messages
		WHERE bot_id = ? AND group_id = ? AND reply_to = '' AND created_at >= ?`)
)

// AccessToken implements group.Reader.
func (r *reader) AccessToken(token string) (group.AccessToken, error) {
	// The token is a secret: it is not repeated in the error.
	return getOne(r.c, accessTokenColumns, "access token", selectAccessToken, token)
}

// LatestAccessToken implements group.Reader.
func (r *reader) LatestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenColumns, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

// Session implements group.Reader.
func (r *reader) Session(id string) (group.Session, error) {
	return getOne(r.c, sessionColumns, fmt.Sprintf("session %q", id), selectSession, id)
}

// OpenID implements group.Reader.
func (r *reader) OpenID(botID, openID string) (group.OpenID, error) {
	return getOne(r.c, openIDColumns, fmt.Sprintf("openid %q of bot %q", openID, botID), selectOpenID, botID, openID)
}

// CountReplies implements group.Reader. A proactive message (ReplyTo "") is no reply.
func (r *reader) CountReplies(botID, replyTo string) (int, error) {
	var n int
	if err := r.c.scanOne([]any{&n}, countReplies, botID, replyTo); err != nil {
		return 0, fmt.Errorf("count replies of bot %q to %q: %w", botID, replyTo, err)
	}
	return n, nil
}

// CountProactive implements group.Reader.
func (r *reader) CountProactive(botID, groupID string, since time.Time) (int, error) {
	var n int
	if err := r.c.scanOne([]any{&n}, countProactive, botID, groupID, since.UnixMilli()); err != nil {
		return 0, fmt.Errorf("count proactive messages of bot %q to group %q: %w", botID, groupID, err)
	}
	return n, nil
}

// PutAccessToken implements group.Tx.
func (w *writer) PutAccessToken(t group.AccessToken) error {
	if _, err := w.c.exec(upsertAccessToken, accessTokenColumns(&t).ptrs()...); err != nil {
		return fmt.Errorf("put access token of bot %q: %w", t.BotID, err)
	}
	return nil
}

// PutSession implements group.Tx.
func (w *writer) PutSession(s group.Session) error {
	if _, err := w.c.exec(upsertSession, sessionColumns(&s).ptrs()...); err != nil {
		return fmt.Errorf("put session %q: %w", s.ID, err)
	}
	return nil
}

// PutOpenID implements group.Tx. An openid already stored keeps its mapping.
func (w *writer) PutOpenID(o group.OpenID) error {
	if _, err := w.c.exec(insertOpenID, openIDColumns(&o).ptrs()...); err != nil {
		return fmt.Errorf("put openid %q of bot %q: %w", o.OpenID, o.BotID, err)
	}
	return nil
}

// AppendBotMessage implements group.Tx.
func (w *writer) AppendBotMessage(m group.BotMessage) error {
	_, err := w.c.exec(insertBotMessage, botMessageColumns(&m).ptrs()...)
	if isUnique(err) {
		return group.Errorf(group.EConflict, "bot %q already sent msg_seq %d in reply to %q", m.BotID, m.MsgSeq, m.ReplyTo)
	}
	if err != nil {
		return fmt.Errorf("append message of bot %q: %w", m.BotID, err)
	}
	return nil
}
