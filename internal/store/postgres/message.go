package postgres

import (
	"fmt"
	"math"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

const messageColumns = `uid, group_id, line, seq, sender, payload, created_at`

func messageFields(m *group.Message) []any {
	return []any{&m.UID, &m.GroupID, &m.Line, &m.Seq, &m.Sender, payload(&m.Payload), msec{&m.CreatedAt}}
}

var (
	selectMessage    = `SELECT ` + messageColumns + ` FROM messages WHERE uid = $1`
	selectMessagesOf = `SELECT ` + messageColumns + ` FROM messages WHERE uid = ANY($1) ORDER BY uid`
	selectMessages   = `SELECT ` + messageColumns + ` FROM messages
		WHERE group_id = $1 AND line = $2 AND seq > $3 ORDER BY seq LIMIT $4`
	selectMessagesBefore = `SELECT ` + messageColumns + ` FROM messages
		WHERE group_id = $1 AND line = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`
	// The seq comes from the (group, line)'s counter row, incremented in
	// place: concurrent appends to one timeline wait for each other's commit
	// on its lock, so seqs commit in order, without gaps and never twice, and
	// a reader that sees seq N sees every seq before it. The uid is the
	// identity's: unique, increasing, with gaps after rollbacks.
	insertMessage = `WITH next AS (
			INSERT INTO timeline_seqs AS t (group_id, line, seq) VALUES ($1, $2, 1)
			ON CONFLICT (group_id, line) DO UPDATE SET seq = t.seq + 1
			RETURNING seq)
		INSERT INTO messages (group_id, line, seq, sender, payload, created_at)
		SELECT $1, $2, next.seq, $3, $4, $5 FROM next
		RETURNING uid, seq`
)

// Message implements group.Reader.
func (r *reader) Message(uid int64) (group.Message, error) {
	return getOne(r.c, messageFields, fmt.Sprintf("message %d", uid), selectMessage, uid)
}

// MessagesOf implements group.Reader.
func (r *reader) MessagesOf(uids []int64) ([]group.Message, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	return getAll(r.c, messageFields, "messages", selectMessagesOf, uids)
}

// Messages implements group.Reader. limit < 1 returns no messages.
func (r *reader) Messages(groupID string, line int, afterSeq int64, limit int) ([]group.Message, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, messageFields, fmt.Sprintf("messages of group %q line %d", groupID, line),
		selectMessages, groupID, line, afterSeq, limit)
}

// MessagesBefore implements group.Reader. limit < 1 returns no messages.
func (r *reader) MessagesBefore(groupID string, line int, beforeSeq int64, limit int) ([]group.Message, error) {
	if limit < 1 {
		return nil, nil
	}
	if beforeSeq == 0 {
		// One range condition, so the read starts at the index's end,
		// whatever the timeline's length.
		beforeSeq = math.MaxInt64
	}
	return getAll(r.c, messageFields, fmt.Sprintf("messages of group %q line %d", groupID, line),
		selectMessagesBefore, groupID, line, beforeSeq, limit)
}

// AppendMessage implements group.Tx.
func (w *writer) AppendMessage(m group.Message) (group.Message, error) {
	p, err := store.MessagePayload(m)
	if err != nil {
		return group.Message{}, fmt.Errorf("postgres: append message to group %q line %d: %w", m.GroupID, m.Line, err)
	}
	m.Payload, m.Notification = p, nil
	err = w.c.writeRow(fmt.Sprintf("append message to group %q line %d", m.GroupID, m.Line),
		[]any{&m.UID, &m.Seq}, insertMessage, m.GroupID, m.Line, m.Sender, payload(&m.Payload), millis(m.CreatedAt))
	if err != nil {
		return group.Message{}, err
	}
	return m, nil
}

// AppendMessageCallbacks implements group.Tx: the append and the read of
// the callback bots in one round trip, the read after the append.
func (w *writer) AppendMessageCallbacks(m group.Message) (group.Message, []string, error) {
	what := fmt.Sprintf("append message to group %q line %d", m.GroupID, m.Line)
	p, err := store.MessagePayload(m)
	if err != nil {
		return group.Message{}, nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	m.Payload, m.Notification = p, nil
	args := []any{m.GroupID, m.Line, m.Sender, payload(&m.Payload), millis(m.CreatedAt)}
	if !store.ValidArgs(args...) {
		return group.Message{}, nil, store.InvalidText(what)
	}
	var (
		appended       []group.Message
		bots, mentions []string
	)
	reads := []read{
		{what, insertMessage, args, into(&appended, func(a *group.Message) []any { return []any{&a.UID, &a.Seq} })},
		{fmt.Sprintf("list callback bots of group %q", m.GroupID), selectCallbackBots, []any{m.GroupID}, into(&bots, text)},
	}
	// A message that mentions someone is followed by a read of the group's
	// bot members (SendMessage: which of them get an at-event): it rides in
	// this round trip, after the append, as it would be read right after.
	mention := m.Payload.MentionedType != group.MentionNone
	if mention {
		reads = append(reads, read{fmt.Sprintf("bots of group %q", m.GroupID), selectBotMembers, []any{m.GroupID}, into(&mentions, text)})
	}
	w.aheadBots = nil
	err = w.c.reads(reads...)
	if err != nil {
		return group.Message{}, nil, err
	}
	if len(appended) != 1 {
		return group.Message{}, nil, fmt.Errorf("postgres: %s: %d rows returned, want 1", what, len(appended))
	}
	m.UID, m.Seq = appended[0].UID, appended[0].Seq
	if mention {
		w.aheadBots = &aheadRead{key: m.GroupID, ids: mentions, at: w.c.sent}
	}
	return m, bots, nil
}
