package postgres

import (
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

const accessTokenColumns = `token, bot_id, expires_at, created_at`

func accessTokenFields(t *group.AccessToken) []any {
	return []any{&t.Token, &t.BotID, msec{&t.ExpiresAt}, msec{&t.CreatedAt}}
}

const sessionColumns = `id, bot_id, shard_id, shard_count, intents, created_at, updated_at, cursor_seq, sent_seq, conn_id`

func sessionFields(s *group.Session) []any {
	return []any{&s.ID, &s.BotID, &s.ShardID, &s.ShardCount, &s.Intents, msec{&s.CreatedAt}, msec{&s.UpdatedAt},
		&s.Cursor, &s.Sent, &s.ConnID}
}

const openIDColumns = `bot_id, openid, kind, internal_id`

func openIDFields(o *group.OpenID) []any {
	return []any{&o.BotID, &o.OpenID, &o.Kind, &o.InternalID}
}

var (
	selectAccessToken       = `SELECT ` + accessTokenColumns + ` FROM access_tokens WHERE token = $1`
	selectLatestAccessToken = `SELECT ` + accessTokenColumns + ` FROM access_tokens
		WHERE bot_id = $1 ORDER BY expires_at DESC, created_at DESC, token DESC LIMIT 1`
	upsertAccessToken = `INSERT INTO access_tokens (` + accessTokenColumns + `) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET bot_id = excluded.bot_id, expires_at = excluded.expires_at,
			created_at = excluded.created_at`

	// A session is read, changed and put back on every identify, resume and
	// touch; in an Update its row is locked, so that a touch's check of
	// conn_id and its write are one step against a concurrent resume.
	selectSession = keyed(`SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, 0)
	upsertSession = `INSERT INTO sessions (` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, shard_id = excluded.shard_id,
			shard_count = excluded.shard_count, intents = excluded.intents,
			created_at = excluded.created_at, updated_at = excluded.updated_at,
			cursor_seq = excluded.cursor_seq, sent_seq = excluded.sent_seq, conn_id = excluded.conn_id`

	selectOpenID = `SELECT ` + openIDColumns + ` FROM openids WHERE bot_id = $1 AND openid = $2`
	insertOpenID = `INSERT INTO openids (` + openIDColumns + `) VALUES ($1, $2, $3, $4)
		ON CONFLICT (bot_id, openid) DO NOTHING`

	// A duplicate reply inserts nothing instead of failing, which would
	// abort the transaction: ON CONFLICT names the partial unique index by
	// its columns and predicate. A concurrent duplicate waits for the first
	// to commit or roll back.
	insertBotMessage = `INSERT INTO bot_messages (bot_id, group_id, message_uid, reply_to, msg_seq, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (bot_id, reply_to, msg_seq) WHERE reply_to <> '' DO NOTHING`
	// "reply_to <> ''" matches the partial index; "" is no reply.
	countReplies = `SELECT count(*) FROM bot_messages
		WHERE bot_id = $1 AND reply_to = $2 AND reply_to <> ''`
	countProactive = `SELECT count(*) FROM bot_messages
		WHERE bot_id = $1 AND group_id = $2 AND reply_to = '' AND created_at >= $3`
)

// AccessToken implements group.Reader.
func (r *reader) AccessToken(token string) (group.AccessToken, error) {
	// The token is a secret: it is not repeated in the error.
	return getOne(r.c, accessTokenFields, "access token", selectAccessToken, token)
}

// LatestAccessToken implements group.Reader.
func (r *reader) LatestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenFields, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

// Session implements group.Reader.
func (r *reader) Session(id string) (group.Session, error) {
	return getKeyed(r.c, sessionFields, fmt.Sprintf("session %q", id), selectSession, id, id)
}

// OpenID implements group.Reader.
func (r *reader) OpenID(botID, openID string) (group.OpenID, error) {
	return getOne(r.c, openIDFields, fmt.Sprintf("openid %q of bot %q", openID, botID), selectOpenID, botID, openID)
}

// CountReplies implements group.Reader. A proactive message (ReplyTo "") is no reply.
func (r *reader) CountReplies(botID, replyTo string) (int, error) {
	return r.c.count(fmt.Sprintf("count replies of bot %q to %q", botID, replyTo), countReplies, botID, replyTo)
}

// CountProactive implements group.Reader.
func (r *reader) CountProactive(botID, groupID string, since time.Time) (int, error) {
	return r.c.count(fmt.Sprintf("count proactive messages of bot %q to group %q", botID, groupID),
		countProactive, botID, groupID, millis(since))
}

// PutAccessToken implements group.Tx.
func (w *writer) PutAccessToken(t group.AccessToken) error {
	_, err := w.c.exec(fmt.Sprintf("put access token of bot %q", t.BotID), upsertAccessToken, accessTokenFields(&t)...)
	return err
}

// PutSession implements group.Tx.
func (w *writer) PutSession(s group.Session) error {
	_, err := w.c.exec(fmt.Sprintf("put session %q", s.ID), upsertSession, sessionFields(&s)...)
	return err
}

// PutOpenID implements group.Tx. An openid already stored keeps its mapping.
func (w *writer) PutOpenID(o group.OpenID) error {
	_, err := w.c.exec(fmt.Sprintf("put openid %q of bot %q", o.OpenID, o.BotID), insertOpenID, openIDFields(&o)...)
	return err
}

// AppendBotMessage implements group.Tx.
func (w *writer) AppendBotMessage(m group.BotMessage) error {
	tag, err := w.c.exec(fmt.Sprintf("append message of bot %q", m.BotID), insertBotMessage,
		m.BotID, m.GroupID, m.MessageUID, m.ReplyTo, m.MsgSeq, millis(m.CreatedAt))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return group.Errorf(group.EConflict, "bot %q already sent msg_seq %d in reply to %q", m.BotID, m.MsgSeq, m.ReplyTo)
	}
	return nil
}
