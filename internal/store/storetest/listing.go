package storetest

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// testListing checks the key-paged listings of all groups and all bots: each
// page starts after the last key of the one before, whatever the count.
func testListing(t *testing.T, s group.Store) {
	gs := []group.Group{fullGroup("a"), fullGroup("b"), fullGroup("c"), fullGroup("d")}
	put(t, s, groups, gs[2], gs[0], gs[3], gs[1])
	bs := []group.Bot{{UserID: "bot1", AppID: "1"}, {UserID: "bot2", AppID: "2"}, {UserID: "bot3", AppID: "3"}}
	put(t, s, bots, bs[1], bs[2], bs[0])

	for _, tt := range []struct {
		name  string
		after string
		limit int
		want  []group.Group
	}{
		{"first page", "", 2, gs[:2]},
		{"next page", "b", 2, gs[2:]},
		{"after a key that is no group", "bb", 10, gs[2:]},
		{"past the end", "d", 10, nil},
		{"limit 0", "", 0, nil},
	} {
		t.Run("Groups/"+tt.name, func(t *testing.T) {
			got := read(t, s, func(r group.Reader) ([]group.Group, error) { return r.Groups(tt.after, tt.limit) })
			diff(t, "Groups", tt.want, got)
		})
	}
	for _, tt := range []struct {
		name  string
		after string
		limit int
		want  []group.Bot
	}{
		{"first page", "", 2, bs[:2]},
		{"next page", "bot2", 2, bs[2:]},
		{"past the end", "bot3", 10, nil},
		{"limit 0", "", 0, nil},
	} {
		t.Run("Bots/"+tt.name, func(t *testing.T) {
			got := read(t, s, func(r group.Reader) ([]group.Bot, error) { return r.Bots(tt.after, tt.limit) })
			diff(t, "Bots", tt.want, got)
		})
	}
}

// testGroupSearch checks the search of groups by a prefix of their id or
// name: case-sensitive, byte by byte, paged by key (a page continues after
// the last key of the one before, also among groups that share a name).
func testGroupSearch(t *testing.T, s group.Store) {
	named := func(id, name string) group.Group { g := fullGroup(id); g.Name = name; return g }
	byID := map[string]group.Group{}
	for _, id := range []string{"tea", "team", "team-a", "team-b", "teamz", "tean", "Team", "u1", "群1", "群2", "\U0010FFFF1", "\U0010FFFF2"} {
		byID[id] = fullGroup(id)
	}
	byName := map[string]group.Group{}
	for _, g := range []group.Group{named("n1", "Team"), named("n2", "Team"), named("n3", "Team"), named("n4", "Teammates"),
		named("n5", "team"), named("n6", "Tea"), named("n7", "Tf"), named("n8", "群聊")} {
		byName[g.ID] = g
	}
	var all []group.Group
	for _, m := range []map[string]group.Group{byID, byName} {
		for _, g := range m {
			all = append(all, g)
		}
	}
	put(t, s, groups, all...)
	pick := func(m map[string]group.Group, ids ...string) []group.Group {
		var gs []group.Group
		for _, id := range ids {
			gs = append(gs, m[id])
		}
		return gs
	}

	for _, tt := range []struct {
		name, prefix, after string
		limit               int
		want                []string
	}{
		{"prefix", "team", "", 10, []string{"team", "team-a", "team-b", "teamz"}},
		{"first page", "team", "", 2, []string{"team", "team-a"}},
		{"next page", "team", "team-a", 2, []string{"team-b", "teamz"}},
		{"past the last", "team", "teamz", 10, nil},
		{"after a key before the prefix", "team", "a", 10, []string{"team", "team-a", "team-b", "teamz"}},
		{"after a key past the prefix", "team", "zzz", 10, nil},
		{"case-sensitive", "Te", "", 10, []string{"Team"}},
		{"multi-byte", "群", "", 10, []string{"群1", "群2"}},
		{"no prefix", "", "u1", 10, []string{"群1", "群2", "\U0010FFFF1", "\U0010FFFF2"}},
		{"a prefix with no end", "\U0010FFFF", "", 10, []string{"\U0010FFFF1", "\U0010FFFF2"}},
		{"no match", "nobody", "", 10, nil},
		{"limit 0", "team", "", 0, nil},
	} {
		t.Run("ByID/"+tt.name, func(t *testing.T) {
			got := read(t, s, func(r group.Reader) ([]group.Group, error) { return r.GroupsByIDPrefix(tt.prefix, tt.after, tt.limit) })
			diff(t, "GroupsByIDPrefix", pick(byID, tt.want...), got)
		})
	}
	for _, tt := range []struct {
		name, prefix string
		after        group.GroupKey
		limit        int
		want         []string
	}{
		{"prefix", "Team", group.GroupKey{}, 10, []string{"n1", "n2", "n3", "n4"}},
		{"first page", "Team", group.GroupKey{}, 2, []string{"n1", "n2"}},
		{"next page within one name", "Team", group.GroupKey{Name: "Team", ID: "n2"}, 2, []string{"n3", "n4"}},
		{"next page past a name", "Team", group.GroupKey{Name: "Team", ID: "n3"}, 10, []string{"n4"}},
		{"past the last", "Team", group.GroupKey{Name: "Teammates", ID: "n4"}, 10, nil},
		{"after a key before the prefix", "Team", group.GroupKey{Name: "A", ID: "zz"}, 10, []string{"n1", "n2", "n3", "n4"}},
		{"shorter prefix", "Te", group.GroupKey{}, 10, []string{"n6", "n1", "n2", "n3", "n4"}},
		{"case-sensitive", "team", group.GroupKey{}, 10, []string{"n5"}},
		{"multi-byte", "群", group.GroupKey{}, 10, []string{"n8"}},
		{"no prefix, byte order", "", group.GroupKey{Name: "Tf", ID: "n7"}, 10, []string{"n5", "n8"}},
		{"no match", "Tz", group.GroupKey{}, 10, nil},
		{"limit 0", "Team", group.GroupKey{}, 0, nil},
	} {
		t.Run("ByName/"+tt.name, func(t *testing.T) {
			got := read(t, s, func(r group.Reader) ([]group.Group, error) {
				return r.GroupsByNamePrefix(tt.prefix, tt.after.Name, tt.after.ID, tt.limit)
			})
			diff(t, "GroupsByNamePrefix", pick(byName, tt.want...), got)
		})
	}
}
