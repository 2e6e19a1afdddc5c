package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestPruneEventsPlans: without an index on created_at, pruning events must
// still read each bot's log by its primary key from its first seq, one
// probe per bot for the heads and a range for a run, never a scan of the
// events table: at a million events a prune batch costs its own size and
// one probe per bot.
func TestPruneEventsPlans(t *testing.T) {
	db := planDB(t)
	for _, tt := range []struct {
		name, q string
		args    []any
	}{
		{"heads", selectEventHeads, []any{0, 10}},
		{"run", selectEventRun, []any{"b", 10}},
		{"delete", pruneEventRun, []any{"b", 10}},
	} {
		all := queryPlan(t, db, tt.q, tt.args...)
		if strings.Contains(all, "SCAN e") || strings.Contains(all, "SCAN events") || strings.Contains(all, "TEMP B-TREE") ||
			!strings.Contains(all, "SEARCH") {
			t.Errorf("%s: plan reads more than the bots' logs by key:\n%s", tt.name, all)
		}
		t.Logf("%s:\n%s", tt.name, all)
	}
}

// TestEventsIndexMigration: a database from before migration 0011 loses its
// index on events (created_at), keeps its events, and Prune still deletes
// the old ones by seq.
func TestEventsIndexMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	old := time.UnixMilli(1_700_000_000_000).UTC()
	err := s.Update(t.Context(), func(tx group.Tx) error {
		for i := range 4 {
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: old.Add(time.Duration(i) * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	unmigrate(t, path, "_events_no_created_index.sql", "CREATE INDEX events_created ON events (created_at)")

	s = openTest(t, path)
	defer s.Close()
	var indexes int
	if err := s.rdb.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'events_created'`).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 0 {
		t.Fatalf("index events_created still there after migrating")
	}
	n, err := s.Prune(t.Context(), old.Add(150*time.Minute), old, old, old, 100)
	if err != nil || n != 3 {
		t.Fatalf("Prune: %d, %v; want 3 events deleted", n, err)
	}
	evs, err := viewOne(t.Context(), s, func(r *reader) ([]group.Event, error) { return r.Events("bot1", 0, 10) })
	if err != nil || len(evs) != 1 || evs[0].Seq != 4 {
		t.Fatalf("events left: %+v, %v; want seq 4", evs, err)
	}
}
