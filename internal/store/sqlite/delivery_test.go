package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestDeliveryMigrationKeepsCallbacks: a robot that had a callback before
// the delivery migration gets a callback stream from the end of its log.
func TestDeliveryMigrationKeepsCallbacks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	s := openTest(t, path)
	now := time.UnixMilli(1_700_000_000_000).UTC()
	err := s.Update(t.Context(), func(tx group.Tx) error {
		for _, b := range []group.Bot{{UserID: "bot1", Callback: "http://a/", AppID: "1"}, {UserID: "bot2", AppID: "2"}} {
			if err := tx.PutUser(group.User{ID: b.UserID, Name: b.UserID, Type: group.UserRobot, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.PutBot(b); err != nil {
				return err
			}
		}
		for range 3 {
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: now}); err != nil {
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
	// Back to the schema before the migration (and the ones after it).
	unmigrate(t, path, "_delivery.sql", "CREATE INDEX events_created ON events (created_at)", "DROP INDEX members_bots", "ALTER TABLE members DROP COLUMN bot",
		"DROP INDEX groups_name", "DROP INDEX bots_callback", "DROP TABLE delivery_streams", "DROP TABLE delivery_attempts",
		"DROP TABLE delivery_drops", "ALTER TABLE events DROP COLUMN data",
		"DROP INDEX sessions_bot", "ALTER TABLE sessions DROP COLUMN node", "ALTER TABLE sessions DROP COLUMN connected_at")

	s = openTest(t, path)
	defer s.Close()
	sts, err := s.DeliveryStreams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].BotID != "bot1" || sts[0].Kind != group.DeliveryCallback || sts[0].URL != "http://a/" ||
		sts[0].Delivered != 3 || sts[0].Epoch != 1 || !sts[0].NextAttempt.IsZero() || !sts[0].LeaseUntil.IsZero() {
		t.Fatalf("streams after the migration: %+v", sts)
	}
}
