package sqlite

import (
	"strings"
	"testing"
)

// TestCallbackBotsPlan: every appended message asks for its group's robots
// with a callback, so that query must start from those robots (an index of
// their own) and probe members by key, never read the group's members: in a
// group of 100,000 it would read 100,000 index entries per message.
func TestCallbackBotsPlan(t *testing.T) {
	all := queryPlan(t, planDB(t), selectCallbackBots, "g")
	if !strings.Contains(all, "bots_callback") || strings.Contains(all, "members_active") || strings.Contains(all, "SCAN m") {
		t.Fatalf("CallbackBots plan reads the group's members:\n%s", all)
	}
}
