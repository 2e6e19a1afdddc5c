package sqlite

import "testing"

// TestCallbackBotsPlan: every appended message asks for its group's robots
// with a callback, so that query must start from the group's robot members
// (members_bots, as many entries as the group has robots) and read each
// one's Bot record by key: never the group's members (100,000 index entries
// per message in a group of 100,000), nor every robot of the server that has
// a callback (bots_callback: its cost would follow the whole server).
func TestCallbackBotsPlan(t *testing.T) {
	all := queryPlan(t, planDB(t), selectCallbackBots, "g")
	want := "SEARCH m USING INDEX members_bots (group_id=?)\nSEARCH b USING INDEX sqlite_autoindex_bots_1 (user_id=?)\nUSE TEMP B-TREE FOR ORDER BY"
	if all != want {
		t.Fatalf("CallbackBots plan:\n%s\nwant\n%s", all, want)
	}
}
