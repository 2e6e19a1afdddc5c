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
	db := planDB(t)
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
		if all := queryPlan(t, db, tt.q, tt.args...); all != tt.want {
			t.Errorf("%s: plan\n%s\nwant\n%s", tt.name, all, tt.want)
		}
	}
}

// planDB opens a new migrated database with database/sql, for EXPLAIN.
func planDB(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qun.db")
	openTest(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryPlan returns the lines of EXPLAIN QUERY PLAN of q.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
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
	return strings.Join(plan, "\n")
}
