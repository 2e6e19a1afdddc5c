package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testAccessToken(t *testing.T, s group.Store) {
	later := group.AccessToken{Token: "tok-later", BotID: "bot1", ExpiresAt: at(2 * time.Hour), CreatedAt: at(time.Hour)}
	sooner := group.AccessToken{Token: "tok-sooner", BotID: "bot1", ExpiresAt: at(time.Hour), CreatedAt: t0}
	other := group.AccessToken{Token: "tok-other", BotID: "bot2", ExpiresAt: at(3 * time.Hour), CreatedAt: t0}
	put(t, s, func(tx group.Tx) func(group.AccessToken) error { return tx.PutAccessToken }, later, sooner, other)

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.AccessToken{later, sooner, other} {
			got := read(t, s, func(r group.Reader) (group.AccessToken, error) { return r.AccessToken(want.Token) })
			diff(t, "AccessToken("+want.Token+")", want, got)
		}
	})
	t.Run("Latest", func(t *testing.T) {
		got := read(t, s, func(r group.Reader) (group.AccessToken, error) { return r.LatestAccessToken("bot1") })
		diff(t, "LatestAccessToken(bot1)", later, got)
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "AccessToken(unknown)", func(r group.Reader) (group.AccessToken, error) { return r.AccessToken("unknown") })
		wantNotExist(t, s, "LatestAccessToken(nobody)", func(r group.Reader) (group.AccessToken, error) { return r.LatestAccessToken("nobody") })
	})
}
