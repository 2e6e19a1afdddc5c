package sqlite

import (
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

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
	botMessageCols = botMessageColumns(new(group.BotMessage))

	insertBotMessage = writeSQL(`INSERT INTO bot_messages (` + botMessageCols.list() + `) VALUES (` + botMessageCols.marks() + `)`)
	// "reply_to <> ''" lets SQLite use the partial index; "" is no reply.
	countReplies = readSQL(`SELECT count(*) FROM bot_messages
		WHERE bot_id = ? AND reply_to = ? AND reply_to <> ''`)
	countProactive = readSQL(`SELECT count(*) FROM bot_messages
		WHERE bot_id = ? AND group_id = ? AND reply_to = '' AND created_at >= ?`)
)

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
