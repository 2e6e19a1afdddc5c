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
