package sqlite

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/qun-chat/qun/internal/group"
)

// cache keeps, across the writer's transactions, rows its Updates read again
// and again: a message send reads its group, its sender's member row, the
// group's robots (with and without a callback) and its bots' event
// counters; a member/add reads the group, the actor, the group's member
// count twice and the new members' bots. Each is one statement (5–15 µs of
// the single writer's CPU) that the cache answers from memory.
//
// Only the writer goroutine touches it. It holds what the writer's own
// transaction sees: a write through the writer changes or drops the entries
// it affects, and every change an Update makes to the cache (fills
// included, since an Update's reads see its own writes) is undone when the
// Update is rolled back to its savepoint; a transaction that fails or
// does not commit drops the whole cache. Another process may write the file
// too (SQLite allows it): the writer compares PRAGMA data_version at the
// start of every transaction, which changes only when another connection
// commits, and drops the cache when it has.
//
// Event counters are kept here and written to event_seqs once per bot per
// transaction, before it commits (flush), instead of once per event; the
// events themselves wait here too, and flush inserts them.
type cache struct {
	version int64 // data_version the cache was filled under; -1 before the first transaction

	groups       map[string]group.Group
	members      map[string]map[string]group.Member // group id, then user id
	memberRows   int                                // rows put in members since it was emptied (about)
	counts       map[string]int
	botMembers   map[string][]string
	callbackBots map[string][]string
	bots         map[string]*group.Bot // nil: the user has no Bot record
	seqs         map[string]int64      // a bot's last event seq in this transaction
	dirty        map[string]bool       // bots whose seq flush writes
	events       []group.Event         // the events this transaction appended, in order; flush inserts them

	undo []func() // the current Update's changes, to undo on its rollback
}

// maxCached bounds each of the cache's maps; one that outgrows it is
// emptied between transactions.
const maxCached = 10_000

var selectDataVersion = readSQL(`PRAGMA data_version`)

func newCache() *cache {
	return &cache{version: -1, groups: map[string]group.Group{}, members: map[string]map[string]group.Member{},
		counts: map[string]int{}, botMembers: map[string][]string{}, callbackBots: map[string][]string{},
		bots: map[string]*group.Bot{}, seqs: map[string]int64{}, dirty: map[string]bool{}}
}

// begin starts a transaction's use of the cache: dropped if another
// connection has committed since the last one (foreign), maps over
// maxCached emptied.
func (k *cache) begin(c *dbtx) (foreign bool, err error) {
	var v int64
	if err := c.scanOne([]any{&v}, selectDataVersion); err != nil {
		return false, fmt.Errorf("sqlite: data_version: %w", err)
	}
	if v != k.version {
		foreign = k.version != -1
		*k = *newCache()
		k.version = v
	}
	k.events = k.events[:0] // a transaction that did not commit dropped its events
	if k.memberRows > maxCached {
		clear(k.members)
		k.memberRows = 0
	}
	emptyIfFull(k.groups)
	emptyIfFull(k.counts)
	emptyIfFull(k.botMembers)
	emptyIfFull(k.callbackBots)
	emptyIfFull(k.bots)
	emptyIfFull(k.seqs)
	return foreign, nil
}

func emptyIfFull[V any](m map[string]V) {
	if len(m) > maxCached {
		clear(m)
	}
}

// rollback undoes the current Update's changes, newest first.
func (k *cache) rollback() {
	for i := len(k.undo) - 1; i >= 0; i-- {
		k.undo[i]()
	}
	k.undo = k.undo[:0]
}

// keep makes the current Update's changes stay.
func (k *cache) keep() { k.undo = k.undo[:0] }

// set sets m[key] to v, or deletes it if del, and records how to undo it.
func set[V any](k *cache, m map[string]V, key string, v V, del bool) {
	old, had := m[key]
	k.undo = append(k.undo, func() {
		if had {
			m[key] = old
		} else {
			delete(m, key)
		}
	})
	if del {
		delete(m, key)
	} else {
		m[key] = v
	}
}

// forget drops m[key].
func forget[V any](k *cache, m map[string]V, key string) {
	if _, ok := m[key]; ok {
		var zero V
		set(k, m, key, zero, true)
	}
}

// appendEvent keeps e for flush, until the current Update is rolled back.
func (k *cache) appendEvent(e group.Event) {
	n := len(k.events)
	k.undo = append(k.undo, func() { k.events = k.events[:n] })
	k.events = append(k.events, e)
}

// flush inserts the events this transaction appended and writes the bots'
// event counters it advanced. It runs after the last Update's savepoint is
// released, so the pages it changes go to no savepoint's journal.
func (k *cache) flush(c *dbtx) error {
	err := insertEvents.chunks(len(k.events), func(q string, from, to int) error {
		args := make([]any, 0, (to-from)*len(eventCols))
		for i := range k.events[from:to] {
			args = eventValues(args, &k.events[from+i])
		}
		_, err := c.exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert events: %w", err)
	}
	clear(k.events) // let their text be collected
	k.events = k.events[:0]
	for _, id := range slices.Sorted(maps.Keys(k.dirty)) {
		if _, err := c.exec(putEventSeq, id, k.seqs[id]); err != nil {
			return fmt.Errorf("sqlite: event seq of bot %q: %w", id, err)
		}
	}
	clear(k.dirty)
	return nil
}

// Group implements group.Reader from the cache.
func (w *writer) Group(id string) (group.Group, error) {
	k := w.cache
	if g, ok := k.groups[id]; ok {
		return g, nil
	}
	g, err := w.reader.Group(id)
	if err == nil {
		set(k, k.groups, id, g, false)
	}
	return g, err
}

// Member implements group.Reader from the cache. A cached row of Pos 0
// says there is no such member (a stored row's Pos is positive).
func (w *writer) Member(groupID, userID string) (group.Member, error) {
	k := w.cache
	if m, ok := k.members[groupID][userID]; ok {
		if m.Pos == 0 {
			return group.Member{}, group.Errorf(group.ENotExist, "member %q of group %q not found", userID, groupID)
		}
		return m, nil
	}
	m, err := w.reader.Member(groupID, userID)
	if err == nil || group.IsNotExist(err) {
		k.putMember(groupID, userID, m)
	}
	return m, err
}

// MembersOf implements group.Reader from the cache: the rows it does not
// know are read in one go, and the ids without one are kept as such.
func (w *writer) MembersOf(groupID string, userIDs []string) ([]group.Member, error) {
	k := w.cache
	ids := distinct(userIDs)
	var unknown []string
	for _, id := range ids {
		if _, ok := k.members[groupID][id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		read, err := w.reader.MembersOf(groupID, unknown)
		if err != nil {
			return nil, err
		}
		found := make(map[string]group.Member, len(read))
		for _, m := range read {
			found[m.UserID] = m
		}
		for _, id := range unknown {
			k.putMember(groupID, id, found[id]) // zero: none
		}
	}
	var ms []group.Member
	for _, id := range ids {
		if m := k.members[groupID][id]; m.Pos != 0 {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b group.Member) int { return cmp.Compare(a.Pos, b.Pos) })
	return ms, nil
}

// putMember caches m as the row of (groupID, userID), zero for none.
func (k *cache) putMember(groupID, userID string, m group.Member) {
	byUser := k.members[groupID]
	if byUser == nil {
		byUser = map[string]group.Member{}
		set(k, k.members, groupID, byUser, false)
	}
	set(k, byUser, userID, m, false)
	k.memberRows++
}

// activeOf counts the active rows among userIDs of group groupID if the
// cache knows every one of them.
func (k *cache) activeOf(groupID string, userIDs []string) (n int, known bool) {
	byUser := k.members[groupID]
	for _, id := range userIDs {
		m, ok := byUser[id]
		if !ok {
			return 0, false
		}
		if m.Pos != 0 && m.Active() {
			n++
		}
	}
	return n, true
}

// MemberCount implements group.Reader from the cache.
func (w *writer) MemberCount(groupID string) (int, error) {
	k := w.cache
	if n, ok := k.counts[groupID]; ok {
		return n, nil
	}
	n, err := w.reader.MemberCount(groupID)
	if err == nil {
		set(k, k.counts, groupID, n, false)
	}
	return n, err
}

// BotMembers implements group.Reader from the cache.
func (w *writer) BotMembers(groupID string) ([]string, error) {
	return cachedIDs(w.cache, w.cache.botMembers, groupID, w.reader.BotMembers)
}

// CallbackBots implements group.Reader from the cache.
func (w *writer) CallbackBots(groupID string) ([]string, error) {
	return cachedIDs(w.cache, w.cache.callbackBots, groupID, w.reader.CallbackBots)
}

func cachedIDs(k *cache, m map[string][]string, groupID string, read func(string) ([]string, error)) ([]string, error) {
	if ids, ok := m[groupID]; ok {
		return slices.Clone(ids), nil
	}
	ids, err := read(groupID)
	if err == nil {
		set(k, m, groupID, slices.Clone(ids), false)
	}
	return ids, err
}

// Bot implements group.Reader from the cache.
func (w *writer) Bot(userID string) (group.Bot, error) {
	k := w.cache
	if b, ok := k.bots[userID]; ok {
		if b == nil {
			return group.Bot{}, group.Errorf(group.ENotExist, "bot %q not found", userID)
		}
		return *b, nil
	}
	b, err := w.reader.Bot(userID)
	switch {
	case err == nil:
		set(k, k.bots, userID, &b, false)
	case group.IsNotExist(err):
		set(k, k.bots, userID, nil, false)
	}
	return b, err
}

// BotsOf implements group.Reader from the cache: the ids it does not know
// are read in one go.
func (w *writer) BotsOf(userIDs []string) ([]group.Bot, error) {
	k := w.cache
	ids := distinct(userIDs)
	var unknown []string
	for _, id := range ids {
		if _, ok := k.bots[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		read, err := w.reader.BotsOf(unknown)
		if err != nil {
			return nil, err
		}
		found := make(map[string]*group.Bot, len(read))
		for i := range read {
			found[read[i].UserID] = &read[i]
		}
		for _, id := range unknown {
			set(k, k.bots, id, found[id], false)
		}
	}
	var bs []group.Bot
	for _, id := range ids {
		if b := k.bots[id]; b != nil {
			bs = append(bs, *b)
		}
	}
	return bs, nil
}

// LastEventSeq implements group.Reader from the cache, which holds the
// counters this transaction advanced.
func (w *writer) LastEventSeq(botID string) (int64, error) {
	k := w.cache
	if seq, ok := k.seqs[botID]; ok {
		return seq, nil
	}
	seq, err := w.reader.LastEventSeq(botID)
	if err == nil {
		set(k, k.seqs, botID, seq, false)
	}
	return seq, err
}

// nextEventSeq advances botID's counter; flush writes it.
func (w *writer) nextEventSeq(botID string) (int64, error) {
	seq, err := w.LastEventSeq(botID)
	if err != nil {
		return 0, err
	}
	k := w.cache
	set(k, k.seqs, botID, seq+1, false)
	set(k, k.dirty, botID, true, false)
	return seq + 1, nil
}

// forgetBots drops every group's robots: a new Bot record may make a
// member of any group a robot, or change its callback.
func (k *cache) forgetBots() {
	for _, m := range []map[string][]string{k.botMembers, k.callbackBots} {
		for id := range m {
			forget(k, m, id)
		}
	}
}

// forgetGroup drops what the cache knows of a group's members.
func (k *cache) forgetGroup(groupID string) {
	forget(k, k.members, groupID)
	forget(k, k.counts, groupID)
	forget(k, k.botMembers, groupID)
	forget(k, k.callbackBots, groupID)
}
