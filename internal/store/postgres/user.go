package postgres

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

const userColumns = `id, name, password, display_name, portrait, gender, mobile, email,
	address, company, social, extra, type, updated_at`

func userFields(u *group.User) []any {
	return []any{&u.ID, &u.Name, &u.Password, &u.DisplayName, &u.Portrait, &u.Gender, &u.Mobile, &u.Email,
		&u.Address, &u.Company, &u.Social, &u.Extra, &u.Type, msec{&u.UpdatedAt}}
}

const botColumns = `user_id, owner, secret, callback, robot_extra, app_id, app_secret, intents,
	ice_breaker_enabled, ice_breaker_payload, updated_at`

func botFields(b *group.Bot) []any {
	return []any{&b.UserID, &b.Owner, &b.Secret, &b.Callback, &b.RobotExtra, &b.AppID, &b.AppSecret, &b.Intents,
		&b.IceBreaker.Enabled, payload(&b.IceBreaker.Payload), msec{&b.UpdatedAt}}
}

var (
	selectUser         = keyed(`SELECT `+userColumns+` FROM users WHERE id = $1`, lockUserKey)
	selectUserByName   = `SELECT ` + userColumns + ` FROM users WHERE name = $1 ORDER BY id LIMIT 1`
	selectUserByMobile = `SELECT ` + userColumns + ` FROM users WHERE mobile = $1 ORDER BY id LIMIT 1`
	upsertUser         = `INSERT INTO users (` + userColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, password = excluded.password,
			display_name = excluded.display_name, portrait = excluded.portrait, gender = excluded.gender,
			mobile = excluded.mobile, email = excluded.email, address = excluded.address,
			company = excluded.company, social = excluded.social, extra = excluded.extra,
			type = excluded.type, updated_at = excluded.updated_at`

	// A bot's row is locked when read in an Update (SetCallback,
	// SetIceBreaker read, change and put it back); a missing one is not: the
	// domain creates bots only after reading, and so locking, their user.
	selectBot = keyed(`SELECT `+botColumns+` FROM bots WHERE user_id = $1`, 0)
	// The joining and leaving members' bots are read without locks: only
	// their ice-breaker is read, nothing is written back. COLLATE "C" is the
	// domain's (byte) order of ids.
	selectBotsOf   = `SELECT ` + botColumns + ` FROM bots WHERE user_id = ANY($1) ORDER BY user_id COLLATE "C"`
	selectBotByApp = `SELECT ` + botColumns + ` FROM bots WHERE app_id = $1 AND app_id <> ''`
	selectBots     = `SELECT ` + botColumns + ` FROM bots WHERE user_id > $1 ORDER BY user_id LIMIT $2`
	upsertBot      = `INSERT INTO bots (` + botColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (user_id) DO UPDATE SET owner = excluded.owner, secret = excluded.secret,
			callback = excluded.callback, robot_extra = excluded.robot_extra, app_id = excluded.app_id,
			app_secret = excluded.app_secret, intents = excluded.intents,
			ice_breaker_enabled = excluded.ice_breaker_enabled, ice_breaker_payload = excluded.ice_breaker_payload,
			updated_at = excluded.updated_at`
	// A user that becomes a robot is one in the groups it is already in
	// (0009); members_user finds its active rows. Removed rows are set when
	// they are written again. Under READ COMMITTED neither write sees the
	// other's uncommitted row: a membership written while the bot is created,
	// by a transaction that did not see the bot, would be missed by this
	// statement too, and the bot would get no events in that group. So both
	// take a lock on the user's bucket (markBuckets) before they read: PutBot
	// exclusive, before this statement, PutMembers shared, before its upsert.
	// Whichever is second waits for the first to commit and, in a snapshot
	// taken after the wait, sees its row. Member writes never wait for each
	// other; a bot's write waits for the member writes of its bucket in
	// flight, and they for it. In a shared batch a wait longer than
	// DefaultBatchLockWait sends the Update to the next batch, as any lock's
	// does; PutBot is the last write of every Update that makes it, so it
	// waits holding no lock a member write asks for after its own.
	lockBotMarkOne = fmt.Sprintf(`SELECT pg_advisory_xact_lock($1, hashtext($2) & %d)`, markBuckets-1)
	markBotMembers = `UPDATE members SET bot = true WHERE user_id = $1 AND type <> 4 AND NOT bot`
)

// User implements group.Reader.
func (r *reader) User(id string) (group.User, error) {
	return getKeyed(r.c, userFields, fmt.Sprintf("user %q", id), selectUser, id, id)
}

// UserByName implements group.Reader.
func (r *reader) UserByName(name string) (group.User, error) {
	return getOne(r.c, userFields, fmt.Sprintf("user named %q", name), selectUserByName, name)
}

// UserByMobile implements group.Reader.
func (r *reader) UserByMobile(mobile string) (group.User, error) {
	return getOne(r.c, userFields, fmt.Sprintf("user with mobile %q", mobile), selectUserByMobile, mobile)
}

// Bot implements group.Reader.
func (r *reader) Bot(userID string) (group.Bot, error) {
	return getKeyed(r.c, botFields, fmt.Sprintf("bot %q", userID), selectBot, userID, userID)
}

// BotsOf implements group.Reader.
func (r *reader) BotsOf(userIDs []string) ([]group.Bot, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	return getAll(r.c, botFields, "bots", selectBotsOf, userIDs)
}

// BotByAppID implements group.Reader.
func (r *reader) BotByAppID(appID string) (group.Bot, error) {
	return getOne(r.c, botFields, fmt.Sprintf("bot with app id %q", appID), selectBotByApp, appID)
}

// PutUser implements group.Tx.
func (w *writer) PutUser(u group.User) error {
	return w.c.later(fmt.Sprintf("put user %q", u.ID), upsertUser, userFields(&u)...)
}

// PutBot implements group.Tx. The upsert runs in a savepoint: an app id taken
// by another bot fails the statement, which would abort the whole
// transaction; rolled back to the savepoint, the transaction goes on and fn
// decides what the EConflict means.
func (w *writer) PutBot(b group.Bot) error {
	what := fmt.Sprintf("put bot %q", b.UserID)
	if !store.ValidArgs(botFields(&b)...) {
		return store.InvalidText(what)
	}
	sp, err := w.c.tx.Begin(w.c.ctx)
	if err != nil {
		return w.c.fail(what, err)
	}
	if _, err := sp.Exec(w.c.ctx, upsertBot, botFields(&b)...); err != nil {
		err = w.c.fail(what, err)
		if rerr := sp.Rollback(w.c.ctx); rerr != nil {
			return w.c.fail(what, rerr)
		}
		if group.ErrorCode(err) == group.EConflict {
			return group.Errorf(group.EConflict, "app id %q is taken by another bot", b.AppID)
		}
		return err
	}
	if err := sp.Commit(w.c.ctx); err != nil {
		return w.c.fail(what, err)
	}
	if err := w.c.later(what+": lock its memberships", lockBotMarkOne, lockBotMark, b.UserID); err != nil {
		return err
	}
	_, err = w.c.exec(what+": mark its memberships", markBotMembers, b.UserID)
	return err
}

// Bots implements group.Reader. limit < 1 returns no bots.
func (r *reader) Bots(afterID string, limit int) ([]group.Bot, error) {
	if limit < 1 {
		return nil, nil
	}
	return getAll(r.c, botFields, fmt.Sprintf("bots after %q", afterID), selectBots, afterID, limit)
}
