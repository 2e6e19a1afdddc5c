package postgres

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

const groupColumns = `id, name, portrait, owner, type, extra, mute, join_type, private_chat,
	searchable, history_message, max_member_count, super_group, created_at, updated_at`

func groupFields(g *group.Group) []any {
	return []any{&g.ID, &g.Name, &g.Portrait, &g.Owner, &g.Type, &g.Extra, &g.Mute, &g.JoinType, &g.PrivateChat,
		&g.Searchable, &g.HistoryMessage, &g.MaxMemberCount, &g.SuperGroup, msec{&g.CreatedAt}, msec{&g.UpdatedAt}}
}

var (
	// Every write of the domain reads its group first, so in an Update this
	// lock orders all the writes to one group, its members included.
	selectGroups = `SELECT ` + groupColumns + ` FROM groups WHERE id > $1 ORDER BY id LIMIT $2`
	selectGroup  = keyed(`SELECT `+groupColumns+` FROM groups WHERE id = $1`, lockGroupKey)
	// A search page is one range of groups_id_c or groups_name (migration
	// 0009), both COLLATE "C": it starts at the later of the prefix and the
	// previous page's last key, which it excludes, and ends below the
	// prefix's end (none for a prefix with no end).
	selectGroupsByID = `SELECT ` + groupColumns + ` FROM groups
		WHERE id COLLATE "C" >= $1 AND id COLLATE "C" < $2 AND id <> $3 ORDER BY id COLLATE "C" LIMIT $4`
	selectGroupsByIDOpen = `SELECT ` + groupColumns + ` FROM groups
		WHERE id COLLATE "C" >= $1 AND id <> $2 ORDER BY id COLLATE "C" LIMIT $3`
	selectGroupsByName = `SELECT ` + groupColumns + ` FROM groups
		WHERE (name COLLATE "C", id COLLATE "C") >= ($1, $2) AND name COLLATE "C" < $3 AND NOT (name = $4 AND id = $5)
		ORDER BY name COLLATE "C", id COLLATE "C" LIMIT $6`
	selectGroupsByNameOpen = `SELECT ` + groupColumns + ` FROM groups
		WHERE (name COLLATE "C", id COLLATE "C") >= ($1, $2) AND NOT (name = $3 AND id = $4)
		ORDER BY name COLLATE "C", id COLLATE "C" LIMIT $5`
	upsertGroup = `INSERT INTO groups (` + groupColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, portrait = excluded.portrait,
			owner = excluded.owner, type = excluded.type, extra = excluded.extra, mute = excluded.mute,
			join_type = excluded.join_type, private_chat = excluded.private_chat,
			searchable = excluded.searchable, history_message = excluded.history_message,
			max_member_count = excluded.max_member_count, super_group = excluded.super_group,
			created_at = excluded.created_at, updated_at = excluded.updated_at`
	// One statement deletes the group, its members and its bots' settings;
	// it reports whether the group existed.
	deleteGroup = `WITH
		g AS (DELETE FROM groups WHERE id = $1 RETURNING id),
		m AS (DELETE FROM members WHERE group_id = $1),
		b AS (DELETE FROM bot_groups WHERE group_id = $1)
		SELECT count(*) FROM g`
)

// Group implements group.Reader.
func (r *reader) Group(id string) (group.Group, error) {
	return getKeyed(r.c, groupFields, fmt.Sprintf("group %q", id), selectGroup, id, id)
}

// Groups implements group.Reader. limit < 1 returns no groups.
func (r *reader) Groups(afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, groupFields, fmt.Sprintf("groups after %q", afterID), selectGroups, afterID, limit)
}

// GroupsByIDPrefix implements group.Reader.
func (r *reader) GroupsByIDPrefix(prefix, afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	what := fmt.Sprintf("groups with id prefix %q after %q", prefix, afterID)
	from := max(prefix, afterID)
	if end, ok := store.PrefixEnd(prefix); ok {
		return getAll(r.c, groupFields, what, selectGroupsByID, from, end, afterID, limit)
	}
	return getAll(r.c, groupFields, what, selectGroupsByIDOpen, from, afterID, limit)
}

// GroupsByNamePrefix implements group.Reader.
func (r *reader) GroupsByNamePrefix(prefix, afterName, afterID string, limit int) ([]group.Group, error) {
	if limit < 1 {
		return nil, nil
	}
	what := fmt.Sprintf("groups with name prefix %q after (%q, %q)", prefix, afterName, afterID)
	from := store.KeyAfter(prefix, afterName, afterID)
	if end, ok := store.PrefixEnd(prefix); ok {
		return getAll(r.c, groupFields, what, selectGroupsByName, from.Name, from.ID, end, afterName, afterID, limit)
	}
	return getAll(r.c, groupFields, what, selectGroupsByNameOpen, from.Name, from.ID, afterName, afterID, limit)
}

// PutGroup implements group.Tx.
func (w *writer) PutGroup(g group.Group) error {
	return w.c.later(fmt.Sprintf("put group %q", g.ID), upsertGroup, groupFields(&g)...)
}

// DeleteGroup implements group.Tx. The timeline and its seq counters stay, so
// a group created again with the same id continues its sequence numbers.
func (w *writer) DeleteGroup(id string) error {
	var n int
	if err := w.c.writeRow(fmt.Sprintf("delete group %q", id), []any{&n}, deleteGroup, id); err != nil {
		return err
	}
	if n == 0 {
		return group.Errorf(group.ENotExist, "group %q not found", id)
	}
	return nil
}
