package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testBotMessage(t *testing.T, s group.Store) {
	appendAll := func(t *testing.T, ms ...group.BotMessage) {
		t.Helper()
		update(t, s, func(tx group.Tx) error { return all(tx.AppendBotMessage, ms...) })
	}
	reply := func(bot, to string, seq int) group.BotMessage {
		return group.BotMessage{BotID: bot, GroupID: "g", MessageUID: 7, ReplyTo: to, MsgSeq: seq, CreatedAt: t0}
	}
	proactive := func(bot, groupID string, created time.Time) group.BotMessage {
		return group.BotMessage{BotID: bot, GroupID: groupID, MessageUID: 8, MsgSeq: 1, CreatedAt: created}
	}

	t.Run("Replies", func(t *testing.T) {
		appendAll(t, reply("bot1", "msg:1", 1), reply("bot1", "msg:1", 2), reply("bot1", "event:3", 1), reply("bot2", "msg:1", 1))
		for _, tt := range []struct {
			bot, to string
			want    int
		}{{"bot1", "msg:1", 2}, {"bot1", "event:3", 1}, {"bot2", "msg:1", 1}, {"bot1", "msg:2", 0}, {"nobody", "msg:1", 0}} {
			got := read(t, s, func(r group.Reader) (int, error) { return r.CountReplies(tt.bot, tt.to) })
			diff(t, "CountReplies("+tt.bot+", "+tt.to+")", tt.want, got)
		}
	})
	t.Run("DuplicateReply", func(t *testing.T) {
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.AppendBotMessage(reply("bot1", "msg:1", 2)) })
		wantCode(t, "AppendBotMessage of a duplicate (msg_id, msg_seq)", err, group.EConflict)
		got := read(t, s, func(r group.Reader) (int, error) { return r.CountReplies("bot1", "msg:1") })
		diff(t, "CountReplies after the duplicate", 2, got)
	})
	t.Run("Proactive", func(t *testing.T) {
		// Proactive messages are never duplicates, even with one MsgSeq.
		appendAll(t,
			proactive("bot1", "g", at(-2*time.Hour)),
			proactive("bot1", "g", at(-time.Hour)),
			proactive("bot1", "g", t0),
			proactive("bot1", "g", at(time.Hour)),
			proactive("bot1", "h", t0),
			proactive("bot2", "g", t0),
		)
		for _, tt := range []struct {
			name       string
			bot, group string
			since      time.Time
			want       int
		}{
			{"window", "bot1", "g", at(-90 * time.Minute), 3},
			{"since is inclusive", "bot1", "g", t0, 2},
			{"all", "bot1", "g", at(-24 * time.Hour), 4},
			{"none", "bot1", "g", at(2 * time.Hour), 0},
			{"other group", "bot1", "h", at(-24 * time.Hour), 1},
			{"other bot", "bot2", "g", at(-24 * time.Hour), 1},
		} {
			got := read(t, s, func(r group.Reader) (int, error) { return r.CountProactive(tt.bot, tt.group, tt.since) })
			diff(t, "CountProactive "+tt.name, tt.want, got)
		}
	})
}

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

func testOpenID(t *testing.T, s group.Store) {
	putOpenID := func(tx group.Tx) func(group.OpenID) error { return tx.PutOpenID }
	ids := []group.OpenID{
		{BotID: "bot1", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDGroup, InternalID: "g"},
		{BotID: "bot1", OpenID: "FEDCBA9876543210FEDCBA9876543210", Kind: group.OpenIDMember, InternalID: "alice"},
		// The same openid string means something else to another bot.
		{BotID: "bot2", OpenID: "0123456789ABCDEF0123456789ABCDEF", Kind: group.OpenIDMember, InternalID: "bob"},
	}
	put(t, s, putOpenID, ids...)
	put(t, s, putOpenID, ids...) // storing them again is not an error
	for _, want := range ids {
		got := read(t, s, func(r group.Reader) (group.OpenID, error) { return r.OpenID(want.BotID, want.OpenID) })
		diff(t, "OpenID", want, got)
	}
	wantNotExist(t, s, "OpenID(bot3, ...)", func(r group.Reader) (group.OpenID, error) { return r.OpenID("bot3", ids[0].OpenID) })
}

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
