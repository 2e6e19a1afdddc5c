package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallbackBotsPlan: every appended message asks for its group's robots
// with a callback, so that query must start from those robots (an index of
// their own) and probe members by key, never read the group's members: in a
// group of 100,000 it would read 100,000 index entries per message.
func TestCallbackBotsPlan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	openTest(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+selectCallbackBots, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	if !strings.Contains(all, "bots_callback") || strings.Contains(all, "members_active") || strings.Contains(all, "SCAN m") {
		t.Fatalf("CallbackBots plan reads the group's members:\n%s", all)
	}
}
