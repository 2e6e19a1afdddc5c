package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

// The partial indexes of 0001_init.sql and the queries below write
// "type <> 4" literally (SQLite uses a partial index only for a matching
// literal term); this fails to compile if group.MemberRemoved changes.
const _ = uint(group.MemberRemoved-4) + uint(4-group.MemberRemoved)

func memberColumns(m *group.Member) columns {
	return columns{
		{"pos", &m.Pos},
		{"group_id", &m.GroupID},
		{"user_id", &m.UserID},
		{"alias", &m.Alias},
		{"type", &m.Type},
		{"extra", &m.Extra},
		{"joined_at", millis{&m.JoinedAt}},
		{"updated_at", millis{&m.UpdatedAt}},
	}
}

// memberWriteColumns are the columns PutMember writes: pos is the store's.
func memberWriteColumns(m *group.Member) columns { return memberColumns(m).except("pos") }

var (
	memberCols      = memberColumns(new(group.Member))
	memberWriteCols = memberWriteColumns(new(group.Member))

	selectMember = readSQL(`SELECT ` + memberCols.list() + ` FROM members WHERE group_id = ? AND user_id = ?`)
	// An upsert, never REPLACE: REPLACE deletes the row and would assign a new pos.
	upsertMember = writeSQL(`INSERT INTO members (` + memberWriteCols.list() + `) VALUES (` + memberWriteCols.marks() + `)
		ON CONFLICT (group_id, user_id) DO UPDATE SET ` + memberWriteCols.except("group_id", "user_id").assign())

	selectMembers = readSQL(`SELECT ` + memberCols.list() + ` FROM members
		WHERE group_id = ? AND type <> 4 ORDER BY pos`)
	selectMembersPage = readSQL(`SELECT ` + memberCols.list() + ` FROM members
		WHERE group_id = ? AND type <> 4 AND pos > ? ORDER BY pos LIMIT ?`)
	countMembers     = readSQL(`SELECT coalesce((SELECT active FROM member_counts WHERE group_id = ?), 0)`)
	selectBotMembers = readSQL(`SELECT m.user_id FROM members m JOIN bots b ON b.user_id = m.user_id
		WHERE m.group_id = ? AND m.type <> 4 ORDER BY m.pos`)
	selectCallbackBots = readSQL(`SELECT m.user_id FROM members m JOIN bots b ON b.user_id = m.user_id
		WHERE m.group_id = ? AND m.type <> 4 AND b.callback <> '' ORDER BY m.user_id`)
	selectGroupsOfUser = readSQL(`SELECT group_id FROM members WHERE user_id = ? AND type <> 4 ORDER BY group_id`)

	selectProactive = readSQL(`SELECT proactive FROM bot_groups WHERE group_id = ? AND bot_id = ?`)
	upsertProactive = writeSQL(`INSERT INTO bot_groups (group_id, bot_id, proactive) VALUES (?, ?, ?)
		ON CONFLICT (group_id, bot_id) DO UPDATE SET proactive = excluded.proactive`)
)

// Member implements group.Reader.
func (r *reader) Member(groupID, userID string) (group.Member, error) {
	return getOne(r.c, memberColumns, fmt.Sprintf("member %q of group %q", userID, groupID), selectMember, groupID, userID)
}

// Members implements group.Reader.
func (r *reader) Members(groupID string) ([]group.Member, error) {
	return getAll(r.c, memberColumns, fmt.Sprintf("members of group %q", groupID), selectMembers, groupID)
}

// MembersPage implements group.Reader. limit < 1 returns no members.
func (r *reader) MembersPage(groupID string, afterPos int64, limit int) ([]group.Member, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, memberColumns, fmt.Sprintf("members of group %q", groupID), selectMembersPage, groupID, afterPos, limit)
}

// MemberCount implements group.Reader.
func (r *reader) MemberCount(groupID string) (int, error) {
	var n int
	if err := r.c.scanOne([]any{&n}, countMembers, groupID); err != nil {
		return 0, fmt.Errorf("count members of group %q: %w", groupID, err)
	}
	return n, nil
}

// BotMembers implements group.Reader: the active members that have a Bot record.
func (r *reader) BotMembers(groupID string) ([]string, error) {
	return getAll(r.c, text, fmt.Sprintf("bots of group %q", groupID), selectBotMembers, groupID)
}

// CallbackBots implements group.Reader.
func (r *reader) CallbackBots(groupID string) ([]string, error) {
	return getAll(r.c, text, fmt.Sprintf("callback bots of group %q", groupID), selectCallbackBots, groupID)
}

// GroupsOfUser implements group.Reader, in group id order.
func (r *reader) GroupsOfUser(userID string) ([]string, error) {
	return getAll(r.c, text, fmt.Sprintf("groups of user %q", userID), selectGroupsOfUser, userID)
}

// Proactive implements group.Reader.
func (r *reader) Proactive(groupID, botID string) (bool, error) {
	var allowed bool
	err := r.c.scanOne([]any{&allowed}, selectProactive, groupID, botID)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get proactive of bot %q in group %q: %w", botID, groupID, err)
	}
	return allowed, nil
}

// PutMember implements group.Tx.
func (w *writer) PutMember(m group.Member) error {
	if _, err := w.c.exec(upsertMember, memberWriteColumns(&m).ptrs()...); err != nil {
		return fmt.Errorf("put member %q of group %q: %w", m.UserID, m.GroupID, err)
	}
	return nil
}

// SetProactive implements group.Tx.
func (w *writer) SetProactive(groupID, botID string, allowed bool) error {
	if _, err := w.c.exec(upsertProactive, groupID, botID, allowed); err != nil {
		return fmt.Errorf("set proactive of bot %q in group %q: %w", botID, groupID, err)
	}
	return nil
}
