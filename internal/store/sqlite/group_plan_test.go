package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestGroupSearchPlans: a page of the group search is one range of an
// index (the primary key's for ids, groups_name for names), bounded on both
// sides when the prefix has an end, and needs no sort: at 100,000 groups a
// page costs what it costs at ten.
func TestGroupSearchPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	openTest(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		name, q string
		args    []any
		want    string
	}{
		{"by id", selectGroupsByID, []any{"te", "tf", "", 10}, "SEARCH groups USING INDEX sqlite_autoindex_groups_1 (id>? AND id<?)"},
		{"by id, no end", selectGroupsByIDOpen, []any{"te", "", 10}, "SEARCH groups USING INDEX sqlite_autoindex_groups_1 (id>?)"},
		{"by name", selectGroupsByName, []any{"Te", "", "Tf", "", "", 10}, "SEARCH groups USING INDEX groups_name ((name,id)>(?,?) AND name<?)"},
		{"by name, no end", selectGroupsByNameOpen, []any{"Te", "", "", "", 10}, "SEARCH groups USING INDEX groups_name ((name,id)>(?,?))"},
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+tt.q, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if all := strings.Join(plan, "\n"); all != tt.want {
			t.Errorf("%s: plan\n%s\nwant\n%s", tt.name, all, tt.want)
		}
	}
}
