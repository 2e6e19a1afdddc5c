package sqlite

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// TestMemberBotsMigration: the robots already in groups when 0008 runs are
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
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	version := 0
	for _, m := range ms {
		if strings.HasSuffix(m.Name, "_member_bots.sql") {
			version = m.Version
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP INDEX members_bots", "ALTER TABLE members DROP COLUMN bot"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("DELETE FROM schema_migrations WHERE version >= ?", version); err != nil {
		t.Fatal(err)
	}
	db.Close()

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
