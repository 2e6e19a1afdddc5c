package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestGroupSearchPlans: a page of the group search is one range of an
// index of migration 0009 (COLLATE "C", whatever the database's locale),
// bounded on both sides when the prefix has an end, with no sort. Sequential
// and bitmap scans are turned off so that the plan of an empty table is
// the one a large table gets.
func TestGroupSearchPlans(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	testOpen(t, dsn, schema)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "SET search_path TO "+pgx.Identifier{schema}.Sanitize()+"; SET enable_seqscan = off; SET enable_bitmapscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, q string
		args    []any
		index   string
		conds   []string
	}{
		{"by id", selectGroupsByID, []any{"te", "tf", "", 10}, "groups_id_c", []string{`(id)::text >= 'te'::text`, `(id)::text < 'tf'::text`}},
		{"by id, no end", selectGroupsByIDOpen, []any{"te", "", 10}, "groups_id_c", []string{`(id)::text >= 'te'::text`}},
		{"by name", selectGroupsByName, []any{"Te", "", "Tf", "", "", 10}, "groups_name", []string{`>= ROW('Te'::text, ''::text)`, `(name)::text < 'Tf'::text`}},
		{"by name, no end", selectGroupsByNameOpen, []any{"Te", "", "", "", 10}, "groups_name", []string{`>= ROW('Te'::text, ''::text)`}},
	} {
		rows, err := conn.Query(t.Context(), "EXPLAIN (COSTS OFF) "+tt.q, append([]any{pgx.QueryExecModeExec}, tt.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		var cond string // the index scan's bounds: the line of its Index Cond
		for _, l := range lines {
			if strings.Contains(l, "Index Cond:") {
				cond = l
			}
		}
		if !strings.Contains(plan, "Index Scan using "+tt.index) || strings.Contains(plan, "Sort") {
			t.Errorf("%s: plan\n%s\nwant an index scan of %s, no sort", tt.name, plan, tt.index)
		}
		for _, c := range tt.conds {
			if !strings.Contains(cond, c) {
				t.Errorf("%s: plan\n%s\nwant the index condition %s", tt.name, plan, c)
			}
		}
	}
}
