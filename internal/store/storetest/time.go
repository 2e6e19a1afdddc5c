package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// testTime checks that times keep at least millisecond precision, whatever
// their location, and that the zero time stays zero.
func testTime(t *testing.T, s group.Store) {
	shanghai := time.FixedZone("UTC+8", 8*60*60)
	for i, tt := range []struct {
		name string
		t    time.Time
	}{
		{"zero", time.Time{}},
		{"whole ms", t0},
		{"sub-ms", time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.UTC)},
		{"other zone", time.Date(2025, 3, 14, 23, 9, 26, 535_000_000, shanghai)},
		{"epoch", time.Unix(0, 0)},
		{"before epoch", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{"far future", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "u" + strconv.Itoa(i)
			put(t, s, users, group.User{ID: id, UpdatedAt: tt.t})
			got := read(t, s, func(r group.Reader) (group.User, error) { return r.User(id) })
			diff(t, "UpdatedAt", tt.t, got.UpdatedAt)
			if got.UpdatedAt.IsZero() != tt.t.IsZero() {
				t.Errorf("UpdatedAt %v: IsZero %v, want %v", got.UpdatedAt, got.UpdatedAt.IsZero(), tt.t.IsZero())
			}
		})
	}
}
