package sqlite

import (
	"fmt"
	"math"
	"slices"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

func messageColumns(m *group.Message) columns {
	return columns{
		{"uid", &m.UID},
		{"group_id", &m.GroupID},
		{"line", &m.Line},
		{"seq", &m.Seq},
		{"sender", &m.Sender},
		{"payload", payloadJSON{&m.Payload}},
		{"created_at", millis{&m.CreatedAt}},
	}
}

var (
	messageCols = messageColumns(new(group.Message))

	selectMessage    = readSQL(`SELECT ` + messageCols.list() + ` FROM messages WHERE uid = ?`)
	selectMessagesOf = bulk(readSQL, `SELECT `+messageCols.list()+` FROM messages WHERE uid IN (`, `?`, `) ORDER BY uid`)
	selectMessages   = readSQL(`SELECT ` + messageCols.list() + ` FROM messages
		WHERE group_id = ? AND line = ? AND seq > ? ORDER BY seq LIMIT ?`)
	selectMessagesBefore = readSQL(`SELECT ` + messageCols.list() + ` FROM messages
		WHERE group_id = ?1 AND line = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4`)
	// The next seq is max+1 of the (group, line): there is one writer, and
	// messages are never deleted, not even with their group.
	insertMessage = writeSQL(`INSERT INTO messages (group_id, line, seq, sender, payload, created_at)
		VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE group_id = ?1 AND line = ?2), ?3, ?4, ?5)
		RETURNING uid, seq`)
)

// Message implements group.Reader.
func (r *reader) Message(uid int64) (group.Message, error) {
	return getOne(r.c, messageColumns, fmt.Sprintf("message %d", uid), selectMessage, uid)
}

// MessagesOf implements group.Reader. The chunks are of sorted uids, each
// in uid order, so their concatenation is too.
func (r *reader) MessagesOf(uids []int64) ([]group.Message, error) {
	uids = slices.Compact(slices.Sorted(slices.Values(uids)))
	var ms []group.Message
	err := selectMessagesOf.chunks(len(uids), func(q string, from, to int) error {
		args := make([]any, 0, to-from)
		for _, uid := range uids[from:to] {
			args = append(args, uid)
		}
		got, err := getAll(r.c, messageColumns, "messages", q, args...)
		ms = append(ms, got...)
		return err
	})
	return ms, err
}

// Messages implements group.Reader. limit < 1 returns no messages.
func (r *reader) Messages(groupID string, line int, afterSeq int64, limit int) ([]group.Message, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, messageColumns, fmt.Sprintf("messages of group %q line %d", groupID, line),
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
	return getAll(r.c, messageColumns, fmt.Sprintf("messages of group %q line %d", groupID, line),
		selectMessagesBefore, groupID, line, beforeSeq, limit)
}

// AppendMessage implements group.Tx.
func (w *writer) AppendMessage(m group.Message) (group.Message, error) {
	p, err := store.MessagePayload(m)
	if err != nil {
		return group.Message{}, fmt.Errorf("append message to group %q line %d: %w", m.GroupID, m.Line, err)
	}
	m.Payload, m.Notification = p, nil
	err = w.c.scanOne([]any{&m.UID, &m.Seq}, insertMessage,
		m.GroupID, m.Line, m.Sender, payloadJSON{&m.Payload}, millis{&m.CreatedAt})
	if err != nil {
		return group.Message{}, fmt.Errorf("append message to group %q line %d: %w", m.GroupID, m.Line, err)
	}
	if w.msgs == nil {
		w.msgs = make(map[int64]group.Message)
	}
	read := m
	read.CreatedAt = asRead(m.CreatedAt)
	w.msgs[m.UID] = read
	return m, nil
}

// AppendMessageCallbacks implements group.Tx: AppendMessage, then
// CallbackBots (from the cache), in-process.
func (w *writer) AppendMessageCallbacks(m group.Message) (group.Message, []string, error) {
	m, err := w.AppendMessage(m)
	if err != nil {
		return group.Message{}, nil, err
	}
	bots, err := w.CallbackBots(m.GroupID)
	if err != nil {
		return group.Message{}, nil, err
	}
	return m, bots, nil
}
