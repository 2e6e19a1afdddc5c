package sqlite

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

func groupColumns(g *group.Group) columns {
	return columns{
		{"id", &g.ID},
		{"name", &g.Name},
		{"portrait", &g.Portrait},
		{"owner", &g.Owner},
		{"type", &g.Type},
		{"extra", &g.Extra},
		{"mute", &g.Mute},
		{"join_type", &g.JoinType},
		{"private_chat", &g.PrivateChat},
		{"searchable", &g.Searchable},
		{"history_message", &g.HistoryMessage},
		{"max_member_count", &g.MaxMemberCount},
		{"super_group", &g.SuperGroup},
		{"created_at", millis{&g.CreatedAt}},
		{"updated_at", millis{&g.UpdatedAt}},
	}
}

var (
	groupCols = groupColumns(new(group.Group))

	selectGroup  = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE id = ?`)
	selectGroups = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE id > ? ORDER BY id LIMIT ?`)
	// A search page is one range of an index: ids from the primary key's,
	// names from groups_name (name, id). It starts at the later of the
	// prefix and the previous page's last key, which it excludes, and ends
	// below the prefix's end (none for a prefix with no end).
	selectGroupsByID       = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE id >= ? AND id < ? AND id <> ? ORDER BY id LIMIT ?`)
	selectGroupsByIDOpen   = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE id >= ? AND id <> ? ORDER BY id LIMIT ?`)
	selectGroupsByName     = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE (name, id) >= (?, ?) AND name < ? AND NOT (name = ? AND id = ?) ORDER BY name, id LIMIT ?`)
	selectGroupsByNameOpen = readSQL(`SELECT ` + groupCols.list() + ` FROM groups WHERE (name, id) >= (?, ?) AND NOT (name = ? AND id = ?) ORDER BY name, id LIMIT ?`)
	upsertGroup            = writeSQL(`INSERT INTO groups (` + groupCols.list() + `) VALUES (` + groupCols.marks() + `)
		ON CONFLICT (id) DO UPDATE SET ` + groupCols.except("id").assign())
	deleteGroup          = writeSQL(`DELETE FROM groups WHERE id = ?`)
	deleteGroupMembers   = writeSQL(`DELETE FROM members WHERE group_id = ?`)
	deleteGroupBotGroups = writeSQL(`DELETE FROM bot_groups WHERE group_id = ?`)
	deleteGroupCount     = writeSQL(`DELETE FROM member_counts WHERE group_id = ?`)
)

// Group implements group.Reader.
func (r *reader) Group(id string) (group.Group, error) {
	return getOne(r.c, groupColumns, fmt.Sprintf("group %q", id), selectGroup, id)
}

// Groups implements group.Reader. limit < 1 returns no groups.
func (r *reader) Groups(afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, groupColumns, fmt.Sprintf("groups after %q", afterID), selectGroups, afterID, limit)
}

// GroupsByIDPrefix implements group.Reader.
func (r *reader) GroupsByIDPrefix(prefix, afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	what := fmt.Sprintf("groups with id prefix %q after %q", prefix, afterID)
	from := max(prefix, afterID)
	if end, ok := store.PrefixEnd(prefix); ok {
		return getAll(r.c, groupColumns, what, selectGroupsByID, from, end, afterID, limit)
	}
	return getAll(r.c, groupColumns, what, selectGroupsByIDOpen, from, afterID, limit)
}

// GroupsByNamePrefix implements group.Reader.
func (r *reader) GroupsByNamePrefix(prefix, afterName, afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	what := fmt.Sprintf("groups with name prefix %q after (%q, %q)", prefix, afterName, afterID)
	from := store.KeyAfter(prefix, afterName, afterID)
	if end, ok := store.PrefixEnd(prefix); ok {
		return getAll(r.c, groupColumns, what, selectGroupsByName, from.Name, from.ID, end, afterName, afterID, limit)
	}
	return getAll(r.c, groupColumns, what, selectGroupsByNameOpen, from.Name, from.ID, afterName, afterID, limit)
}

// PutGroup implements group.Tx.
func (w *writer) PutGroup(g group.Group) error {
	forget(w.cache, w.cache.groups, g.ID) // first: a failed write may have changed the row
	if _, err := w.c.exec(upsertGroup, groupColumns(&g).ptrs()...); err != nil {
		return fmt.Errorf("put group %q: %w", g.ID, err)
	}
	return nil
}

// DeleteGroup implements group.Tx. The timeline stays, so a group created
// again with the same id continues its sequence numbers.
func (w *writer) DeleteGroup(id string) error {
	forget(w.cache, w.cache.groups, id) // first: a failing statement may follow one that deleted
	w.cache.forgetGroup(id)
	res, err := w.c.exec(deleteGroup, id)
	if err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	} else if n == 0 {
		return group.Errorf(group.ENotExist, "group %q not found", id)
	}
	for _, q := range []string{deleteGroupMembers, deleteGroupBotGroups, deleteGroupCount} {
		if _, err := w.c.exec(q, id); err != nil {
			return fmt.Errorf("delete group %q: %w", id, err)
		}
	}
	return nil
}
