package postgres

import (
	"context"
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
	conn := planConn(t, dsn, schema, "SET enable_seqscan = off; SET enable_bitmapscan = off")
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
		lines := explain(t, conn, "EXPLAIN (COSTS OFF) "+tt.q, append([]any{pgx.QueryExecModeExec}, tt.args...)...)
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

// planConn is a connection of its own to the test schema, with set run on
// it (the planner settings a plan test reads plans under).
func planConn(t *testing.T, dsn, schema, set string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "SET search_path TO "+pgx.Identifier{schema}.Sanitize()+"; "+set); err != nil {
		t.Fatal(err)
	}
	return conn
}

// explain runs an EXPLAIN on conn and returns the plan's lines.
func explain(t *testing.T, conn *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
