package store

import "github.com/qun-chat/qun/internal/group"

// MergeMembers returns ms with each (GroupID, UserID) once, at its first
// place and with its last values: what putting the rows one by one leaves.
// Both stores write a PutMembers call as merged rows, so that one statement
// never touches a row twice (PostgreSQL refuses that) and a row's state
// before the call is all a store needs to keep its member count.
func MergeMembers(ms []group.Member) []group.Member {
	at := make(map[[2]string]int, len(ms))
	out := make([]group.Member, 0, len(ms))
	for _, m := range ms {
		k := [2]string{m.GroupID, m.UserID}
		if i, seen := at[k]; seen {
			out[i] = m
			continue
		}
		at[k] = len(out)
		out = append(out, m)
	}
	return out
}
