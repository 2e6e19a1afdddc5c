package postgres

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// The partial indexes of 0001_init.sql and the queries below write
// "type <> 4" literally (the planner uses a partial index only for a
// condition it can prove from the query's text); this fails to compile if
// group.MemberRemoved changes.
const _ = uint(group.MemberRemoved-4) + uint(4-group.MemberRemoved)

// markBuckets is how many keys the users' robot marks are locked under
// (lockBotMark), a power of two: a member write takes at most this many
// shared locks, whatever its number of rows, so that a batch of bulk writes
// stays far from the server's lock table (max_locks_per_transaction, 64 by
// default, times the connections). Two users in one bucket only make a bot's
// write wait for the other's member writes.
const markBuckets = 64

const memberColumns = `pos, group_id, user_id, alias, type, extra, joined_at, updated_at`

func memberFields(m *group.Member) []any {
	return []any{&m.Pos, &m.GroupID, &m.UserID, &m.Alias, &m.Type, &m.Extra, msec{&m.JoinedAt}, msec{&m.UpdatedAt}}
}

var (
	selectMember = `SELECT ` + memberColumns + ` FROM members WHERE group_id = $1 AND user_id = $2`
	// One probe of (group_id, user_id) per id, in a LATERAL with a LIMIT,
	// which the planner cannot turn into a scan of the group: with
	// "user_id = ANY($2)" the generic plan a connection made while members
	// was small read every member of the group (member_plan_test.go). The
	// ids go distinct and the rows are put in Pos order here (MembersOf):
	// an aggregate and a sort cost the server more to set up per execution
	// than the few rows they handle.
	selectMembersOf = `SELECT ` + memberColumns + ` FROM unnest($2::text[]) AS ids(u)
		CROSS JOIN LATERAL (SELECT ` + memberColumns + ` FROM members WHERE group_id = $1 AND user_id = ids.u LIMIT 1) AS m`
	// One statement for any number of rows: a column array each. pos is the
	// identity's on first insert, handed out in the rows' order (ORDER BY
	// ord); the update leaves it alone. A row may appear once per statement.
	// Each row's bot (0009) says whether its user is a robot now.
	upsertMembers = `INSERT INTO members (group_id, user_id, alias, type, extra, joined_at, updated_at, bot)
		SELECT g, u, a, t, e, j, up, EXISTS (SELECT 1 FROM bots b WHERE b.user_id = u)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[])
			WITH ORDINALITY AS r(g, u, a, t, e, j, up, ord)
		ORDER BY ord
		ON CONFLICT (group_id, user_id) DO UPDATE SET alias = excluded.alias, type = excluded.type,
			extra = excluded.extra, joined_at = excluded.joined_at, updated_at = excluded.updated_at, bot = excluded.bot`

	// upsertMembers for one row (a member/add of one member): its values as
	// parameters, no arrays to encode and unnest, no sort.
	upsertMember = `INSERT INTO members (group_id, user_id, alias, type, extra, joined_at, updated_at, bot)
		VALUES ($1, $2, $3, $4, $5, $6, $7, EXISTS (SELECT 1 FROM bots b WHERE b.user_id = $2))
		ON CONFLICT (group_id, user_id) DO UPDATE SET alias = excluded.alias, type = excluded.type,
			extra = excluded.extra, joined_at = excluded.joined_at, updated_at = excluded.updated_at, bot = excluded.bot`

	// The shared side of PutBot's lock (see markBotMembers), one per bucket
	// of the rows' users, taken before the upsert reads bots.
	lockBotMarks = fmt.Sprintf(`SELECT pg_advisory_xact_lock_shared($1, k)
		FROM (SELECT DISTINCT hashtext(u) & %d AS k FROM unnest($2::text[]) AS u) AS ks ORDER BY k`, markBuckets-1)
	// lockBotMarks for one user (a member/add of one member): one lock, no
	// aggregate or sort to set up.
	lockBotMarkShared = fmt.Sprintf(`SELECT pg_advisory_xact_lock_shared($1, hashtext($2) & %d)`, markBuckets-1)

	selectMembers = `SELECT ` + memberColumns + ` FROM members
		WHERE group_id = $1 AND type <> 4 ORDER BY pos`
	selectMembersPage = `SELECT ` + memberColumns + ` FROM members
		WHERE group_id = $1 AND type <> 4 AND pos > $2 ORDER BY pos LIMIT $3`
	countMembers = `SELECT coalesce((SELECT active FROM member_counts WHERE group_id = $1), 0)`
	// The partial index members_bots (0009): as many entries as robots.
	selectBotMembers = `SELECT user_id FROM members WHERE group_id = $1 AND type <> 4 AND bot ORDER BY pos`
	// A listing, read without locks as BotMembers: every message reads it,
	// and the group's lock orders it against membership changes. It starts
	// from the group's robot members, as BotMembers does (members_bots,
	// 0011: as many entries as the group has robots), and probes each one's
	// Bot record for a callback (bots_callback, 0008) in a LATERAL with a
	// LIMIT, so that the generic plan can become neither a scan of every
	// member of the group (an EXISTS from bots did, for plans made while
	// members was small) nor one of every robot with a callback on the
	// server (starting from bots_callback did: 20,000 robots with a callback
	// made each message read 20,000 index entries). See member_plan_test.go.
	selectCallbackBots = `SELECT m.user_id FROM members m
		CROSS JOIN LATERAL (SELECT 1 FROM bots b WHERE b.user_id = m.user_id AND b.callback <> '' LIMIT 1) AS b
		WHERE m.group_id = $1 AND m.type <> 4 AND m.bot ORDER BY m.user_id`
	selectGroupsOfUser = `SELECT group_id FROM members WHERE user_id = $1 AND type <> 4 ORDER BY group_id`

	selectProactive = `SELECT proactive FROM bot_groups WHERE group_id = $1 AND bot_id = $2`
	upsertProactive = `INSERT INTO bot_groups (group_id, bot_id, proactive) VALUES ($1, $2, $3)
		ON CONFLICT (group_id, bot_id) DO UPDATE SET proactive = excluded.proactive`
)

// Member implements group.Reader.
func (r *reader) Member(groupID, userID string) (group.Member, error) {
	return getOne(r.c, memberFields, fmt.Sprintf("member %q of group %q", userID, groupID), selectMember, groupID, userID)
}

// MembersOf implements group.Reader.
func (r *reader) MembersOf(groupID string, userIDs []string) ([]group.Member, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	ms, err := getAll(r.c, memberFields, fmt.Sprintf("members of group %q", groupID), selectMembersOf, groupID, distinct(userIDs))
	return inPosOrder(ms), err
}

// distinct returns ids each once, in their first order, for selectMembersOf;
// ids itself if none repeats.
func distinct(ids []string) []string {
	if len(ids) <= 8 { // the usual call: no map
		for i := 1; i < len(ids); i++ {
			if slices.Contains(ids[:i], ids[i]) {
				return distinctBy(ids)
			}
		}
		return ids
	}
	return distinctBy(ids)
}

func distinctBy(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// inPosOrder sorts the rows of selectMembersOf in Pos order.
func inPosOrder(ms []group.Member) []group.Member {
	slices.SortFunc(ms, func(a, b group.Member) int { return cmp.Compare(a.Pos, b.Pos) })
	return ms
}

// Joining implements group.Reader: the three reads in one round trip.
func (r *reader) Joining(groupID string, memberIDs, botIDs []string) ([]group.Member, int, []group.Bot, error) {
	var j joined
	if err := r.c.reads(j.reads(groupID, memberIDs, botIDs)...); err != nil {
		return nil, 0, nil, err
	}
	return j.result()
}

// GroupJoining implements group.Reader: the group's read (keyed, as Group)
// and Joining's in one round trip, the group first, so that in an Update
// the others are read once its lock is held, as after Group. A group not
// found is, as Group does after a miss, ENotExist in a View and in an
// Update read again with its key locked, and Joining then too.
func (r *reader) GroupJoining(groupID string, memberIDs, botIDs []string) (group.Group, []group.Member, int, []group.Bot, error) {
	q := selectGroup.q
	if r.c.write {
		q = selectGroup.locked
	}
	var (
		gs []group.Group
		j  joined
	)
	rs := append(make([]read, 0, 4), read{fmt.Sprintf("get group %q", groupID), q, []any{groupID}, into(&gs, groupFields)})
	if err := r.c.reads(append(rs, j.reads(groupID, memberIDs, botIDs)...)...); err != nil {
		return group.Group{}, nil, 0, nil, err
	}
	if len(gs) == 0 {
		g, err := getKeyedMissed(r.c, groupFields, fmt.Sprintf("group %q", groupID), selectGroup, groupID, groupID)
		if err != nil {
			return group.Group{}, nil, 0, nil, err
		}
		ms, n, bs, err := r.Joining(groupID, memberIDs, botIDs)
		return g, ms, n, bs, err
	}
	ms, n, bs, err := j.result()
	return gs[0], ms, n, bs, err
}

// joined takes the rows of Joining's reads.
type joined struct {
	ms    []group.Member
	count []int
	bs    []group.Bot
}

func (j *joined) reads(groupID string, memberIDs, botIDs []string) []read {
	rs := make([]read, 0, 3)
	if len(memberIDs) > 0 {
		rs = append(rs, read{fmt.Sprintf("list members of group %q", groupID), selectMembersOf, []any{groupID, distinct(memberIDs)}, into(&j.ms, memberFields)})
	}
	rs = append(rs, read{fmt.Sprintf("count members of group %q", groupID), countMembers, []any{groupID},
		into(&j.count, func(n *int) []any { return []any{n} })})
	if len(botIDs) > 0 {
		rs = append(rs, read{"list bots", selectBotsOf, []any{botIDs}, into(&j.bs, botFields)})
	}
	return rs
}

func (j *joined) result() ([]group.Member, int, []group.Bot, error) {
	n := 0
	if len(j.count) > 0 {
		n = j.count[0]
	}
	return inPosOrder(j.ms), n, j.bs, nil
}

// Members implements group.Reader.
func (r *reader) Members(groupID string) ([]group.Member, error) {
	return getAll(r.c, memberFields, fmt.Sprintf("members of group %q", groupID), selectMembers, groupID)
}

// MembersPage implements group.Reader. limit < 1 returns no members.
func (r *reader) MembersPage(groupID string, afterPos int64, limit int) ([]group.Member, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, memberFields, fmt.Sprintf("members of group %q", groupID), selectMembersPage, groupID, afterPos, limit)
}

// MemberCount implements group.Reader.
func (r *reader) MemberCount(groupID string) (int, error) {
	return r.c.count(fmt.Sprintf("count members of group %q", groupID), countMembers, groupID)
}

// BotMembers implements group.Reader: the active members that have a Bot
// record, in Pos order, read from the rows marked bot.
func (r *reader) BotMembers(groupID string) ([]string, error) {
	return getAll(r.c, text, fmt.Sprintf("bots of group %q", groupID), selectBotMembers, groupID)
}

// BotMembers implements group.Tx: those read ahead by the append of a
// message that mentions someone, if the Update has sent nothing since.
func (w *writer) BotMembers(groupID string) ([]string, error) {
	if a := w.aheadBots; a != nil {
		w.aheadBots = nil
		if a.key == groupID && a.at == w.c.sent {
			return a.ids, nil
		}
	}
	return w.reader.BotMembers(groupID)
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
	err := r.c.scanOne(fmt.Sprintf("get proactive of bot %q in group %q", botID, groupID),
		[]any{&allowed}, selectProactive, groupID, botID)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	return allowed, err
}

// PutMember implements group.Tx.
func (w *writer) PutMember(m group.Member) error {
	return w.PutMembers([]group.Member{m})
}

// PutMembers implements group.Tx in one statement, of merged rows
// (store.MergeMembers): PostgreSQL refuses to upsert a row twice in one.
func (w *writer) PutMembers(ms []group.Member) error {
	ms = store.MergeMembers(ms)
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	if n == 1 {
		m := ms[0]
		what := fmt.Sprintf("put member %q of group %q", m.UserID, m.GroupID)
		if err := w.c.later(what+": lock the robot mark", lockBotMarkShared, lockBotMark, m.UserID); err != nil {
			return err
		}
		return w.c.later(what, upsertMember, m.GroupID, m.UserID, m.Alias, int64(m.Type), m.Extra, millis(m.JoinedAt), millis(m.UpdatedAt))
	}
	gs, us, as, es := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ts, js, ups := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, m := range ms {
		gs[i], us[i], as[i], ts[i], es[i], js[i], ups[i] = m.GroupID, m.UserID, m.Alias, int64(m.Type), m.Extra, millis(m.JoinedAt), millis(m.UpdatedAt)
	}
	what := fmt.Sprintf("put %d members, the first of group %q", n, ms[0].GroupID)
	if err := w.c.later(what+": lock the robot marks", lockBotMarks, lockBotMark, us); err != nil {
		return err
	}
	return w.c.later(what, upsertMembers, gs, us, as, ts, es, js, ups)
}

// SetProactive implements group.Tx.
func (w *writer) SetProactive(groupID, botID string, allowed bool) error {
	return w.c.later(fmt.Sprintf("set proactive of bot %q in group %q", botID, groupID), upsertProactive,
		groupID, botID, allowed)
}
