package postgres

import (
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

var (
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

// CountReplies implements group.Reader. A proactive message (ReplyTo "") is no reply.
func (r *reader) CountReplies(botID, replyTo string) (int, error) {
	return r.c.count(fmt.Sprintf("count replies of bot %q to %q", botID, replyTo), countReplies, botID, replyTo)
}

// CountProactive implements group.Reader.
func (r *reader) CountProactive(botID, groupID string, since time.Time) (int, error) {
	return r.c.count(fmt.Sprintf("count proactive messages of bot %q to group %q", botID, groupID),
		countProactive, botID, groupID, millis(since))
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
