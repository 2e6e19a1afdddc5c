package storetest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testSetting(t *testing.T, s Store) {
	_, err := s.Setting(t.Context(), "k")
	wantCode(t, "Setting(k)", err, group.ENotExist)
	diff(t, "CreateSetting(k, v1)", "v1", must(s.CreateSetting(t.Context(), "k", "v1"))(t, "CreateSetting"))
	diff(t, "Setting(k)", "v1", must(s.Setting(t.Context(), "k"))(t, "Setting"))
	// A key that has a value keeps it.
	diff(t, "CreateSetting(k, v2)", "v1", must(s.CreateSetting(t.Context(), "k", "v2"))(t, "CreateSetting"))
	diff(t, "Setting(k) after a second create", "v1", must(s.Setting(t.Context(), "k"))(t, "Setting"))
	diff(t, "CreateSetting(empty, \"\")", "", must(s.CreateSetting(t.Context(), "empty", ""))(t, "CreateSetting"))
	diff(t, "CreateSetting(empty, x)", "", must(s.CreateSetting(t.Context(), "empty", "x"))(t, "CreateSetting"))
}

// testConcurrentCreateSetting creates one key from many goroutines at once,
// as nodes starting together create the server's keys: one value wins, and
// every creator gets it.
func testConcurrentCreateSetting(t *testing.T, s Store) {
	const n = 16
	got := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			v, err := s.CreateSetting(t.Context(), "server-key", "v"+strconv.Itoa(i))
			if err != nil {
				t.Errorf("CreateSetting %d: %v", i, err)
			}
			got[i] = v
		})
	}
	close(start)
	wg.Wait()
	stored := must(s.Setting(t.Context(), "server-key"))(t, "Setting")
	for i, v := range got {
		if v != stored {
			t.Errorf("creator %d got %q, but %q is stored", i, v, stored)
		}
	}
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
