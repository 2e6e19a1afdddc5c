package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

func TestMergeMembers(t *testing.T) {
	m := func(g, u, alias string) group.Member { return group.Member{GroupID: g, UserID: u, Alias: alias} }
	for _, tt := range []struct {
		name     string
		in, want []group.Member
	}{
		{"none", nil, []group.Member{}},
		{"distinct", []group.Member{m("g", "a", "1"), m("g", "b", "2"), m("h", "a", "3")}, []group.Member{m("g", "a", "1"), m("g", "b", "2"), m("h", "a", "3")}},
		{"repeated", []group.Member{m("g", "a", "1"), m("g", "b", "2"), m("g", "a", "3"), m("g", "a", "4")}, []group.Member{m("g", "a", "4"), m("g", "b", "2")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, MergeMembers(tt.in)); d != "" {
				t.Errorf("MergeMembers (-want +got):\n%s", d)
			}
		})
	}
}
