package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testSetting(t *testing.T, s group.Store) {
	setting := func(t *testing.T, key string) string {
		t.Helper()
		return read(t, s, func(r group.Reader) (string, error) { return r.Setting(key) })
	}
	wantNotExist(t, s, "Setting(k)", func(r group.Reader) (string, error) { return r.Setting("k") })
	update(t, s, func(tx group.Tx) error { return tx.PutSetting("k", "v1") })
	diff(t, "Setting(k)", "v1", setting(t, "k"))
	update(t, s, func(tx group.Tx) error { return tx.PutSetting("k", "") })
	diff(t, "Setting(k) after replace", "", setting(t, "k"))
}

func testNonce(t *testing.T, s group.Store) {
	steps := []struct {
		name    string
		key     string
		expires time.Time
		now     time.Time
		want    bool
	}{
		{"fresh", "n1", at(5 * time.Minute), t0, true},
		{"replay", "n1", at(6 * time.Minute), at(time.Minute), false},
		{"replay just before expiry", "n1", at(10 * time.Minute), at(5*time.Minute - time.Millisecond), false},
		{"other key", "n2", at(5 * time.Minute), at(time.Minute), true},
		{"after expiry", "n1", at(20 * time.Minute), at(6 * time.Minute), true},
		{"replay of the renewed record", "n1", at(30 * time.Minute), at(19 * time.Minute), false},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			var got bool
			update(t, s, func(tx group.Tx) (err error) {
				got, err = tx.UseNonce(step.key, step.expires, step.now)
				return err
			})
			diff(t, "UseNonce", step.want, got)
		})
	}
}
