package sqlite

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
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

	selectMember    = readSQL(`SELECT ` + memberCols.list() + ` FROM members WHERE group_id = ? AND user_id = ?`)
	selectMembersOf = bulk(readSQL, `SELECT `+memberCols.list()+` FROM members WHERE group_id = ? AND user_id IN (`, `?`, `)`)
	// An upsert, never REPLACE: REPLACE deletes the row and would assign a
	// new pos. Rows are inserted in VALUES order, so new rows get pos in the
	// order given. Each row's bot (0008) says whether its user is a robot
	// now, looked up by the bots key; a row's user id is bound twice.
	upsertMembers = bulk(writeSQL, `INSERT INTO members (`+memberWriteCols.list()+`, bot) VALUES `,
		`(`+memberWriteCols.marks()+`, EXISTS (SELECT 1 FROM bots WHERE user_id = ?))`,
		` ON CONFLICT (group_id, user_id) DO UPDATE SET `+memberWriteCols.except("group_id", "user_id").assign()+`, bot = excluded.bot`)
	// PutMembers keeps member_counts (0005): it counts the active rows a
	// chunk replaces and the ones it writes, and adds the difference once per
	// group.
	countActiveOf  = bulk(readSQL, `SELECT count(*) FROM members WHERE group_id = ? AND type <> 4 AND user_id IN (`, `?`, `)`)
	addMemberCount = writeSQL(`INSERT INTO member_counts (group_id, active) VALUES (?, ?)
		ON CONFLICT (group_id) DO UPDATE SET active = active + excluded.active`)

	selectMembers = readSQL(`SELECT ` + memberCols.list() + ` FROM members
		WHERE group_id = ? AND type <> 4 ORDER BY pos`)
	selectMembersPage = readSQL(`SELECT ` + memberCols.list() + ` FROM members
		WHERE group_id = ? AND type <> 4 AND pos > ? ORDER BY pos LIMIT ?`)
	countMembers = readSQL(`SELECT coalesce((SELECT active FROM member_counts WHERE group_id = ?), 0)`)
	// The partial index members_bots (0008): as many entries as robots.
	selectBotMembers = readSQL(`SELECT user_id FROM members WHERE group_id = ? AND type <> 4 AND bot = 1 ORDER BY pos`)
	// The group's robots with a callback: from the group's robot members
	// (members_bots), each one's Bot record read by key, so that the cost
	// follows the group's robots, not every robot of the server with a
	// callback. INDEXED BY and CROSS JOIN fix that for SQLite's planner,
	// which would rather walk the primary key for its user_id order.
	selectCallbackBots = readSQL(`SELECT m.user_id FROM members m INDEXED BY members_bots CROSS JOIN bots b
		WHERE m.group_id = ? AND m.type <> 4 AND m.bot = 1 AND b.user_id = m.user_id AND b.callback <> ''
		ORDER BY m.user_id`)
	selectGroupsOfUser = readSQL(`SELECT group_id FROM members WHERE user_id = ? AND type <> 4 ORDER BY group_id`)

	selectProactive = readSQL(`SELECT proactive FROM bot_groups WHERE group_id = ? AND bot_id = ?`)
	upsertProactive = writeSQL(`INSERT INTO bot_groups (group_id, bot_id, proactive) VALUES (?, ?, ?)
		ON CONFLICT (group_id, bot_id) DO UPDATE SET proactive = excluded.proactive`)
)

// Member implements group.Reader.
func (r *reader) Member(groupID, userID string) (group.Member, error) {
	return getOne(r.c, memberColumns, fmt.Sprintf("member %q of group %q", userID, groupID), selectMember, groupID, userID)
}

// MembersOf implements group.Reader.
func (r *reader) MembersOf(groupID string, userIDs []string) ([]group.Member, error) {
	ids := distinct(userIDs)
	var ms []group.Member
	err := selectMembersOf.chunks(len(ids), func(q string, from, to int) error {
		args := []any{groupID}
		for _, id := range ids[from:to] {
			args = append(args, id)
		}
		got, err := getAll(r.c, memberColumns, fmt.Sprintf("members of group %q", groupID), q, args...)
		ms = append(ms, got...)
		return err
	})
	slices.SortFunc(ms, func(a, b group.Member) int { return cmp.Compare(a.Pos, b.Pos) })
	return ms, err
}

// Joining implements group.Reader: SQLite reads in-process, so the three
// reads are made one after the other.
func (r *reader) Joining(groupID string, memberIDs, botIDs []string) ([]group.Member, int, []group.Bot, error) {
	return joining(r, groupID, memberIDs, botIDs)
}

// Joining implements group.Reader from the cache.
func (w *writer) Joining(groupID string, memberIDs, botIDs []string) ([]group.Member, int, []group.Bot, error) {
	return joining(w, groupID, memberIDs, botIDs)
}

// GroupJoining implements group.Reader.
func (r *reader) GroupJoining(groupID string, memberIDs, botIDs []string) (group.Group, []group.Member, int, []group.Bot, error) {
	return groupJoining(r, groupID, memberIDs, botIDs)
}

// GroupJoining implements group.Reader from the cache.
func (w *writer) GroupJoining(groupID string, memberIDs, botIDs []string) (group.Group, []group.Member, int, []group.Bot, error) {
	return groupJoining(w, groupID, memberIDs, botIDs)
}

func groupJoining(r group.Reader, groupID string, memberIDs, botIDs []string) (group.Group, []group.Member, int, []group.Bot, error) {
	g, err := r.Group(groupID)
	if err != nil {
		return group.Group{}, nil, 0, nil, err
	}
	ms, n, bs, err := r.Joining(groupID, memberIDs, botIDs)
	return g, ms, n, bs, err
}

func joining(r group.Reader, groupID string, memberIDs, botIDs []string) ([]group.Member, int, []group.Bot, error) {
	ms, err := r.MembersOf(groupID, memberIDs)
	if err != nil {
		return nil, 0, nil, err
	}
	n, err := r.MemberCount(groupID)
	if err != nil {
		return nil, 0, nil, err
	}
	bs, err := r.BotsOf(botIDs)
	if err != nil {
		return nil, 0, nil, err
	}
	return ms, n, bs, nil
}

// distinct returns ids sorted, each once.
func distinct(ids []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
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

// BotMembers implements group.Reader: the active members that have a Bot
// record, in Pos order, read from the rows marked bot.
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
	return w.PutMembers([]group.Member{m})
}

// PutMembers implements group.Tx: the merged rows (store.MergeMembers) of
// each group go in multi-row upserts, and the group's member count changes
// once by the active rows written less the active rows replaced. Only a
// group that had active members needs the rows it replaces counted; a new
// group's 2,000 rows need no reads.
func (w *writer) PutMembers(ms []group.Member) error {
	// Every row's text is checked before the first is written, so a refused
	// call writes none of them.
	for i := range ms {
		if !store.ValidArgs(memberWriteColumns(&ms[i]).ptrs()...) {
			return store.InvalidText(fmt.Sprintf("put member %q of group %q", ms[i].UserID, ms[i].GroupID))
		}
	}
	ms = store.MergeMembers(ms)
	var groups []string // in first-seen order, so count rows are written in a fixed order
	byGroup := make(map[string][]group.Member)
	for _, m := range ms {
		if _, seen := byGroup[m.GroupID]; !seen {
			groups = append(groups, m.GroupID)
		}
		byGroup[m.GroupID] = append(byGroup[m.GroupID], m)
	}
	for _, gid := range groups {
		if err := w.putMembersOfGroup(gid, byGroup[gid]); err != nil {
			return err
		}
	}
	return nil
}

// putMembersOfGroup upserts distinct rows of group gid and keeps its count.
// A failure may come after a chunk was written: the cache then forgets the
// group's rows, in case the Update goes on.
func (w *writer) putMembersOfGroup(gid string, ms []group.Member) (err error) {
	defer func() {
		if err != nil {
			w.cache.forgetGroup(gid)
		}
	}()
	active, err := w.MemberCount(gid)
	if err != nil {
		return err
	}
	delta := 0
	err = upsertMembers.chunks(len(ms), func(q string, from, to int) error {
		chunk := ms[from:to]
		ids := make([]string, len(chunk))
		for i, m := range chunk {
			ids[i] = m.UserID
		}
		if replaced, known := w.cache.activeOf(gid, ids); active > 0 && known {
			delta -= replaced
		} else if active > 0 {
			keys := make([]any, 0, len(chunk)+1)
			keys = append(keys, gid)
			for _, m := range chunk {
				keys = append(keys, m.UserID)
			}
			var replaced int
			count, keys := countActiveOf.in(1, keys)
			if err := w.c.scanOne([]any{&replaced}, count, keys...); err != nil {
				return fmt.Errorf("count members of group %q: %w", gid, err)
			}
			delta -= replaced
		}
		args := make([]any, 0, len(chunk)*(len(memberWriteCols)+1))
		for i := range chunk {
			args = append(args, memberWriteColumns(&chunk[i]).ptrs()...)
			args = append(args, chunk[i].UserID)
			if chunk[i].Active() {
				delta++
			}
		}
		if _, err := w.c.exec(q, args...); err != nil {
			if len(chunk) == 1 {
				return fmt.Errorf("put member %q of group %q: %w", chunk[0].UserID, gid, err)
			}
			return fmt.Errorf("put %d members of group %q: %w", len(chunk), gid, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.forgetMembers(gid, ms); err != nil {
		return err
	}
	if delta == 0 {
		return nil
	}
	if _, err := w.c.exec(addMemberCount, gid, delta); err != nil {
		return fmt.Errorf("count members of group %q: %w", gid, err)
	}
	set(w.cache, w.cache.counts, gid, active+delta, false)
	return nil
}

// forgetMembers drops the cached rows of ms, members of group gid, and the
// group's cached robots if one of ms is a robot (its bot lookup is cached
// too, for botsJoined).
func (w *writer) forgetMembers(gid string, ms []group.Member) error {
	k := w.cache
	if byUser := k.members[gid]; byUser != nil {
		for _, m := range ms {
			forget(k, byUser, m.UserID)
		}
	}
	_, bm := k.botMembers[gid]
	_, cb := k.callbackBots[gid]
	if !bm && !cb {
		return nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	bots, err := w.BotsOf(ids)
	if err != nil {
		return err
	}
	if len(bots) > 0 {
		forget(k, k.botMembers, gid)
		forget(k, k.callbackBots, gid)
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
