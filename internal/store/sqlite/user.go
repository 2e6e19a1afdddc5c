package sqlite

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

func userColumns(u *group.User) columns {
	return columns{
		{"id", &u.ID},
		{"name", &u.Name},
		{"password", &u.Password},
		{"display_name", &u.DisplayName},
		{"portrait", &u.Portrait},
		{"gender", &u.Gender},
		{"mobile", &u.Mobile},
		{"email", &u.Email},
		{"address", &u.Address},
		{"company", &u.Company},
		{"social", &u.Social},
		{"extra", &u.Extra},
		{"type", &u.Type},
		{"updated_at", millis{&u.UpdatedAt}},
	}
}

func botColumns(b *group.Bot) columns {
	return columns{
		{"user_id", &b.UserID},
		{"owner", &b.Owner},
		{"secret", &b.Secret},
		{"callback", &b.Callback},
		{"robot_extra", &b.RobotExtra},
		{"app_id", &b.AppID},
		{"app_secret", &b.AppSecret},
		{"intents", &b.Intents},
		{"ice_breaker_enabled", &b.IceBreaker.Enabled},
		{"ice_breaker_payload", payloadJSON{&b.IceBreaker.Payload}},
		{"updated_at", millis{&b.UpdatedAt}},
	}
}

var (
	userCols = userColumns(new(group.User))
	botCols  = botColumns(new(group.Bot))

	selectUser         = readSQL(`SELECT ` + userCols.list() + ` FROM users WHERE id = ?`)
	selectUserByName   = readSQL(`SELECT ` + userCols.list() + ` FROM users WHERE name = ? ORDER BY id LIMIT 1`)
	selectUserByMobile = readSQL(`SELECT ` + userCols.list() + ` FROM users WHERE mobile = ? ORDER BY id LIMIT 1`)
	upsertUser         = writeSQL(`INSERT INTO users (` + userCols.list() + `) VALUES (` + userCols.marks() + `)
		ON CONFLICT (id) DO UPDATE SET ` + userCols.except("id").assign())

	selectBot      = readSQL(`SELECT ` + botCols.list() + ` FROM bots WHERE user_id = ?`)
	selectBotsOf   = bulk(readSQL, `SELECT `+botCols.list()+` FROM bots WHERE user_id IN (`, `?`, `) ORDER BY user_id`)
	selectBotByApp = readSQL(`SELECT ` + botCols.list() + ` FROM bots WHERE app_id = ? AND app_id <> ''`)
	selectBots     = readSQL(`SELECT ` + botCols.list() + ` FROM bots WHERE user_id > ? ORDER BY user_id LIMIT ?`)
	upsertBot      = writeSQL(`INSERT INTO bots (` + botCols.list() + `) VALUES (` + botCols.marks() + `)
		ON CONFLICT (user_id) DO UPDATE SET ` + botCols.except("user_id").assign())
	// A user that becomes a robot is one in the groups it is already in
	// (0008); members_user finds its active rows. Removed rows are set
	// when they are written again. No membership written while the bot is
	// created can be missed: there is one writer, and its transactions take
	// the database's write lock at BEGIN (_txlock=immediate, another process
	// waits too), so PutMembers sees every bot committed before it and this
	// statement every member row (PostgreSQL needs a lock for it).
	markBotMembers = writeSQL(`UPDATE members SET bot = 1 WHERE user_id = ? AND type <> 4 AND bot = 0`)
)

// User implements group.Reader.
func (r *reader) User(id string) (group.User, error) {
	return getOne(r.c, userColumns, fmt.Sprintf("user %q", id), selectUser, id)
}

// UserByName implements group.Reader.
func (r *reader) UserByName(name string) (group.User, error) {
	return getOne(r.c, userColumns, fmt.Sprintf("user named %q", name), selectUserByName, name)
}

// UserByMobile implements group.Reader.
func (r *reader) UserByMobile(mobile string) (group.User, error) {
	return getOne(r.c, userColumns, fmt.Sprintf("user with mobile %q", mobile), selectUserByMobile, mobile)
}

// Bot implements group.Reader.
func (r *reader) Bot(userID string) (group.Bot, error) {
	return getOne(r.c, botColumns, fmt.Sprintf("bot %q", userID), selectBot, userID)
}

// BotsOf implements group.Reader. The chunks are of sorted ids, each in
// user id order, so their concatenation is too.
func (r *reader) BotsOf(userIDs []string) ([]group.Bot, error) {
	ids := distinct(userIDs)
	var bs []group.Bot
	err := selectBotsOf.chunks(len(ids), func(q string, from, to int) error {
		args := make([]any, 0, to-from)
		for _, id := range ids[from:to] {
			args = append(args, id)
		}
		got, err := getAll(r.c, botColumns, "bots", q, args...)
		bs = append(bs, got...)
		return err
	})
	return bs, err
}

// BotByAppID implements group.Reader.
func (r *reader) BotByAppID(appID string) (group.Bot, error) {
	return getOne(r.c, botColumns, fmt.Sprintf("bot with app id %q", appID), selectBotByApp, appID)
}

// PutUser implements group.Tx.
func (w *writer) PutUser(u group.User) error {
	if _, err := w.c.exec(upsertUser, userColumns(&u).ptrs()...); err != nil {
		return fmt.Errorf("put user %q: %w", u.ID, err)
	}
	if w.usersPut == nil {
		w.usersPut = make(map[string]bool)
	}
	w.usersPut[u.ID] = true
	return nil
}

// PutBot implements group.Tx.
func (w *writer) PutBot(b group.Bot) error {
	forget(w.cache, w.cache.bots, b.UserID) // first: the marking may fail after the upsert
	w.cache.forgetBots()
	_, err := w.c.exec(upsertBot, botColumns(&b).ptrs()...)
	if isUnique(err) {
		return group.Errorf(group.EConflict, "app id %q is taken by another bot", b.AppID)
	}
	if err != nil {
		return fmt.Errorf("put bot %q: %w", b.UserID, err)
	}
	if _, err := w.c.exec(markBotMembers, b.UserID); err != nil {
		return fmt.Errorf("put bot %q: mark its memberships: %w", b.UserID, err)
	}
	return nil
}

// Bots implements group.Reader. limit < 1 returns no bots.
func (r *reader) Bots(afterID string, limit int) ([]group.Bot, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, botColumns, fmt.Sprintf("bots after %q", afterID), selectBots, afterID, limit)
}
