package store

import (
	"errors"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func TestReuseAccessToken(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	latest := group.AccessToken{Token: "old", ExpiresAt: now.Add(time.Hour)}
	fresh := group.AccessToken{Token: "new", ExpiresAt: now.Add(2 * time.Hour)}
	broken := errors.New("disk on fire")
	for _, tc := range []struct {
		name       string
		err        error
		reuseAfter time.Time
		want       string
		put        bool
		wantErr    error
	}{
		{"latest still good", nil, now, "old", false, nil},
		{"latest in its overlap", nil, now.Add(time.Hour), "new", true, nil},
		{"no token yet", group.Errorf(group.ENotExist, "none"), now, "new", true, nil},
		{"read failed", broken, now, "", false, broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, put, err := ReuseAccessToken(latest, tc.err, fresh, tc.reuseAfter)
			if tok.Token != tc.want || put != tc.put || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %q, put %v, err %v; want %q, put %v, err %v", tok.Token, put, err, tc.want, tc.put, tc.wantErr)
			}
		})
	}
}
