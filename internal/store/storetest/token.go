package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// farFuture is after every token's expiry: IssueAccessToken with it as the
// reuse cutoff always stores the token it is given.
var farFuture = at(100 * 365 * 24 * time.Hour)

// putToken stores t whatever tokens its bot has.
func putToken(t *testing.T, s Store, tok group.AccessToken) {
	t.Helper()
	got := must(s.IssueAccessToken(t.Context(), tok, farFuture))(t, "IssueAccessToken")
	diff(t, "IssueAccessToken of a token no other outlives", tok, got)
}

func testAccessToken(t *testing.T, s Store) {
	later := group.AccessToken{Token: "tok-later", BotID: "bot1", ExpiresAt: at(2 * time.Hour), CreatedAt: at(time.Hour)}
	sooner := group.AccessToken{Token: "tok-sooner", BotID: "bot1", ExpiresAt: at(time.Hour), CreatedAt: t0}
	other := group.AccessToken{Token: "tok-other", BotID: "bot2", ExpiresAt: at(3 * time.Hour), CreatedAt: t0}
	for _, tok := range []group.AccessToken{later, sooner, other} {
		putToken(t, s, tok)
	}

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.AccessToken{later, sooner, other} {
			got := must(s.AccessToken(t.Context(), want.Token))(t, "AccessToken")
			diff(t, "AccessToken("+want.Token+")", want, got)
		}
	})
	t.Run("Latest", func(t *testing.T) {
		got := must(s.LatestAccessToken(t.Context(), "bot1"))(t, "LatestAccessToken")
		diff(t, "LatestAccessToken(bot1)", later, got)
	})
	t.Run("NotExist", func(t *testing.T) {
		_, err := s.AccessToken(t.Context(), "unknown")
		wantCode(t, "AccessToken(unknown)", err, group.ENotExist)
		_, err = s.LatestAccessToken(t.Context(), "nobody")
		wantCode(t, "LatestAccessToken(nobody)", err, group.ENotExist)
	})
}

// testIssueAccessToken checks the decision IssueAccessToken makes in its
// transaction: the latest token while it expires after the cutoff, else the
// new one, stored.
func testIssueAccessToken(t *testing.T, s Store) {
	first := group.AccessToken{Token: "tok-1", BotID: "bot1", ExpiresAt: at(2 * time.Hour), CreatedAt: t0}
	second := group.AccessToken{Token: "tok-2", BotID: "bot1", ExpiresAt: at(3 * time.Hour), CreatedAt: at(time.Hour)}
	issue := func(t *testing.T, tok group.AccessToken, reuseAfter time.Time) group.AccessToken {
		t.Helper()
		return must(s.IssueAccessToken(t.Context(), tok, reuseAfter))(t, "IssueAccessToken")
	}

	diff(t, "IssueAccessToken for a bot without tokens", first, issue(t, first, t0))
	t.Run("Reuse", func(t *testing.T) {
		diff(t, "IssueAccessToken while the latest expires after the cutoff", first, issue(t, second, at(time.Hour)))
		_, err := s.AccessToken(t.Context(), second.Token)
		wantCode(t, "the token not issued", err, group.ENotExist)
	})
	t.Run("Renew", func(t *testing.T) {
		// The cutoff is the latest's expiry: a token expiring at it is not reused.
		diff(t, "IssueAccessToken once the latest expires by the cutoff", second, issue(t, second, first.ExpiresAt))
		diff(t, "the renewed token's predecessor", first, must(s.AccessToken(t.Context(), first.Token))(t, "AccessToken"))
		diff(t, "LatestAccessToken after the renewal", second, must(s.LatestAccessToken(t.Context(), "bot1"))(t, "LatestAccessToken"))
	})
	t.Run("OtherBot", func(t *testing.T) {
		other := group.AccessToken{Token: "tok-other", BotID: "bot2", ExpiresAt: at(time.Hour), CreatedAt: t0}
		diff(t, "IssueAccessToken for another bot", other, issue(t, other, t0))
	})
}

// testRevokeAccessTokens checks that Tx.RevokeAccessTokens deletes every
// token of its bot and no other's, and that a rolled-back revocation keeps them.
func testRevokeAccessTokens(t *testing.T, s Store) {
	one := group.AccessToken{Token: "tok-1", BotID: "bot1", ExpiresAt: at(time.Hour), CreatedAt: t0}
	two := group.AccessToken{Token: "tok-2", BotID: "bot1", ExpiresAt: at(2 * time.Hour), CreatedAt: at(time.Minute)}
	other := group.AccessToken{Token: "tok-other", BotID: "bot2", ExpiresAt: at(time.Hour), CreatedAt: t0}
	for _, tok := range []group.AccessToken{one, two, other} {
		putToken(t, s, tok)
	}
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := tx.RevokeAccessTokens("bot1"); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("rolled-back revocation: %v, want %v", err, errTest)
	}
	diff(t, "AccessToken after a rolled-back revocation", one, must(s.AccessToken(t.Context(), one.Token))(t, "AccessToken"))

	update(t, s, func(tx group.Tx) error { return tx.RevokeAccessTokens("bot1") })
	for _, tok := range []group.AccessToken{one, two} {
		_, err := s.AccessToken(t.Context(), tok.Token)
		wantCode(t, "AccessToken of a revoked token", err, group.ENotExist)
	}
	_, err = s.LatestAccessToken(t.Context(), "bot1")
	wantCode(t, "LatestAccessToken after revocation", err, group.ENotExist)
	diff(t, "another bot's token", other, must(s.AccessToken(t.Context(), other.Token))(t, "AccessToken"))
	update(t, s, func(tx group.Tx) error { return tx.RevokeAccessTokens("nobody") })
}
