package sqlite

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// TestMemberBotsMigration: the robots already in groups when its migration runs are
// marked by it, so BotMembers finds them on a migrated database.
func TestMemberBotsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := tx.PutBot(group.Bot{UserID: "r1"}); err != nil {
			return err
		}
		return tx.PutMembers([]group.Member{{GroupID: "g", UserID: "alice"}, {GroupID: "g", UserID: "r1"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	unmigrate(t, path, "_member_bots.sql", "CREATE INDEX events_created ON events (created_at)", "DROP INDEX members_bots", "ALTER TABLE members DROP COLUMN bot")

	s = openTest(t, path)
	defer s.Close()
	var got []string
	if err := s.View(t.Context(), func(r group.Reader) (err error) {
		got, err = r.BotMembers("g")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"r1"}) {
		t.Fatalf("BotMembers(g) after the migration = %q, want [r1]", got)
	}
}

// TestWriterCacheSeesOtherConnections: the writer keeps rows it reads
// between transactions; a commit by another connection to the same file
// (another process, a tool) drops them, so the next Update reads it.
func TestWriterCacheSeesOtherConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	defer s.Close()
	name := func() string {
		var g group.Group
		if err := s.Update(t.Context(), func(tx group.Tx) (err error) { g, err = tx.Group("g"); return err }); err != nil {
			t.Fatal(err)
		}
		return g.Name
	}
	if err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutGroup(group.Group{ID: "g", Name: "one"}) }); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "one" {
		t.Fatalf("name = %q, want one", got)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE groups SET name = 'two' WHERE id = 'g'`); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "two" {
		t.Fatalf("name after another connection's commit = %q, want two", got)
	}
}

// unmigrate takes the database at path back to the schema before the
// migration named *suffix and the ones after it: undo are the statements that
// undo their changes; the migrations are then marked not applied.
func unmigrate(t *testing.T, path, suffix string, undo ...string) {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	version := 0
	for _, m := range ms {
		if strings.HasSuffix(m.Name, suffix) {
			version = m.Version
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range undo {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("DELETE FROM schema_migrations WHERE version >= ?", version); err != nil {
		t.Fatal(err)
	}
}
