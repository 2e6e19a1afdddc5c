package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testUser(t *testing.T, s group.Store) {
	alice := group.User{ID: "alice", Name: "Alice", Password: "secret", DisplayName: "Alice A.",
		Portrait: "https://p.example/a.png", Gender: 2, Mobile: "13800000001", Email: "alice@example.com",
		Address: "1 Road", Company: "ACME", Social: "@alice", Extra: `{"k":1}`, Type: group.UserNormal, UpdatedAt: t0}
	robot := group.User{ID: "robot", Name: "Robot", Mobile: "13800000002", Type: group.UserRobot, UpdatedAt: at(-time.Hour)}
	// Two users with one name and one mobile: lookups return the first by id.
	twinB := group.User{ID: "twin-b", Name: "Twin", Mobile: "13900000000", UpdatedAt: t0}
	twinA := group.User{ID: "twin-a", Name: "Twin", Mobile: "13900000000", UpdatedAt: t0}
	put(t, s, users, alice, robot, twinB, twinA)

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.User{alice, robot, twinA, twinB} {
			got := read(t, s, func(r group.Reader) (group.User, error) { return r.User(want.ID) })
			diff(t, "User("+want.ID+")", want, got)
		}
	})
	t.Run("ByName", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			want group.User
		}{
			{"Alice", alice},
			{"Robot", robot},
			{"Twin", twinA},
		} {
			got := read(t, s, func(r group.Reader) (group.User, error) { return r.UserByName(tt.name) })
			diff(t, "UserByName("+tt.name+")", tt.want, got)
		}
		wantNotExist(t, s, "UserByName(nobody)", func(r group.Reader) (group.User, error) { return r.UserByName("Nobody") })
	})
	t.Run("ByMobile", func(t *testing.T) {
		for _, tt := range []struct {
			mobile string
			want   group.User
		}{
			{alice.Mobile, alice},
			{robot.Mobile, robot},
			{twinA.Mobile, twinA},
		} {
			got := read(t, s, func(r group.Reader) (group.User, error) { return r.UserByMobile(tt.mobile) })
			diff(t, "UserByMobile("+tt.mobile+")", tt.want, got)
		}
		wantNotExist(t, s, "UserByMobile(unknown)", func(r group.Reader) (group.User, error) { return r.UserByMobile("10000000000") })
	})
	t.Run("Replace", func(t *testing.T) {
		changed := alice
		changed.Name, changed.DisplayName, changed.Extra, changed.UpdatedAt = "Alicia", "", "", at(time.Hour)
		put(t, s, users, changed)
		got := read(t, s, func(r group.Reader) (group.User, error) { return r.User("alice") })
		diff(t, "User(alice) after replace", changed, got)
		wantNotExist(t, s, "UserByName(old name)", func(r group.Reader) (group.User, error) { return r.UserByName("Alice") })
	})
	t.Run("LongNameAndMobile", func(t *testing.T) {
		// The longest name and mobile the domain accepts are stored and found
		// by every store (PostgreSQL indexes both, and a b-tree entry has a
		// size limit). The texts are random so that no store can compress them.
		long := group.User{ID: "long", Name: randomText(group.MaxNameLen), Mobile: randomText(group.MaxNameLen), UpdatedAt: t0}
		put(t, s, users, long)
		got := read(t, s, func(r group.Reader) (group.User, error) { return r.User(long.ID) })
		diff(t, "User(long)", long, got)
		got = read(t, s, func(r group.Reader) (group.User, error) { return r.UserByName(long.Name) })
		diff(t, "UserByName(long name)", long, got)
		got = read(t, s, func(r group.Reader) (group.User, error) { return r.UserByMobile(long.Mobile) })
		diff(t, "UserByMobile(long mobile)", long, got)
		// Lookups are exact: a prefix finds nobody.
		wantNotExist(t, s, "UserByName(prefix)", func(r group.Reader) (group.User, error) { return r.UserByName(long.Name[:group.MaxNameLen-1]) })
		wantNotExist(t, s, "UserByMobile(prefix)", func(r group.Reader) (group.User, error) { return r.UserByMobile(long.Mobile[:group.MaxNameLen-1]) })
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "User(nobody)", func(r group.Reader) (group.User, error) { return r.User("nobody") })
	})
}

func testBot(t *testing.T, s group.Store) {
	bot1 := group.Bot{UserID: "bot1", Owner: "alice", Secret: "robot-secret", Callback: "https://cb.example/bot1",
		RobotExtra: `{"r":1}`, AppID: "1001", AppSecret: "app-secret", Intents: 1 << 25,
		IceBreaker: group.IceBreaker{Enabled: true, Payload: payload("welcome")}, UpdatedAt: t0}
	bot2 := group.Bot{UserID: "bot2", AppID: "1002", UpdatedAt: t0}
	// Bots without an app id do not conflict with each other.
	bot3 := group.Bot{UserID: "bot3", Secret: "s3"}
	bot4 := group.Bot{UserID: "bot4", Secret: "s4"}
	put(t, s, bots, bot1, bot2, bot3, bot4)

	t.Run("Get", func(t *testing.T) {
		for _, want := range []group.Bot{bot1, bot2, bot3, bot4} {
			got := read(t, s, func(r group.Reader) (group.Bot, error) { return r.Bot(want.UserID) })
			diff(t, "Bot("+want.UserID+")", want, got)
		}
		for _, want := range []group.Bot{bot1, bot2} {
			got := read(t, s, func(r group.Reader) (group.Bot, error) { return r.BotByAppID(want.AppID) })
			diff(t, "BotByAppID("+want.AppID+")", want, got)
		}
	})
	t.Run("NotExist", func(t *testing.T) {
		wantNotExist(t, s, "Bot(nobody)", func(r group.Reader) (group.Bot, error) { return r.Bot("nobody") })
		wantNotExist(t, s, "BotByAppID(9999)", func(r group.Reader) (group.Bot, error) { return r.BotByAppID("9999") })
		wantNotExist(t, s, `BotByAppID("")`, func(r group.Reader) (group.Bot, error) { return r.BotByAppID("") })
	})
	t.Run("AppIDConflict", func(t *testing.T) {
		taken := bot3
		taken.AppID = bot1.AppID
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutBot(taken) })
		wantCode(t, "PutBot with bot1's app id", err, group.EConflict)
		got := read(t, s, func(r group.Reader) (group.Bot, error) { return r.Bot("bot3") })
		diff(t, "Bot(bot3) after conflict", bot3, got)
		got = read(t, s, func(r group.Reader) (group.Bot, error) { return r.BotByAppID(bot1.AppID) })
		diff(t, "BotByAppID(1001) after conflict", bot1, got)
	})
	t.Run("ChangeAppID", func(t *testing.T) {
		// bot1 moves to a new app id; its old one is free for bot2.
		moved, taker := bot1, bot2
		moved.AppID, taker.AppID = "2001", bot1.AppID
		put(t, s, bots, moved, taker)
		got := read(t, s, func(r group.Reader) (group.Bot, error) { return r.BotByAppID("2001") })
		diff(t, "BotByAppID(2001)", moved, got)
		got = read(t, s, func(r group.Reader) (group.Bot, error) { return r.BotByAppID("1001") })
		diff(t, "BotByAppID(1001)", taker, got)
		wantNotExist(t, s, "BotByAppID(1002)", func(r group.Reader) (group.Bot, error) { return r.BotByAppID("1002") })
	})
}

// randomText returns n random base64 characters.
func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:n]
}
