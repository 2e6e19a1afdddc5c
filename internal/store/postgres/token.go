package postgres

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

const accessTokenColumns = `token, bot_id, expires_at, created_at`

func accessTokenFields(t *group.AccessToken) []any {
	return []any{&t.Token, &t.BotID, msec{&t.ExpiresAt}, msec{&t.CreatedAt}}
}

var (
	selectAccessToken       = `SELECT ` + accessTokenColumns + ` FROM access_tokens WHERE token = $1`
	selectLatestAccessToken = `SELECT ` + accessTokenColumns + ` FROM access_tokens
		WHERE bot_id = $1 ORDER BY expires_at DESC, created_at DESC, token DESC LIMIT 1`
	upsertAccessToken = `INSERT INTO access_tokens (` + accessTokenColumns + `) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET bot_id = excluded.bot_id, expires_at = excluded.expires_at,
			created_at = excluded.created_at`
)

// AccessToken implements group.Reader.
func (r *reader) AccessToken(token string) (group.AccessToken, error) {
	// The token is a secret: it is not repeated in the error.
	return getOne(r.c, accessTokenFields, "access token", selectAccessToken, token)
}

// LatestAccessToken implements group.Reader.
func (r *reader) LatestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenFields, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

// PutAccessToken implements group.Tx.
func (w *writer) PutAccessToken(t group.AccessToken) error {
	_, err := w.c.exec(fmt.Sprintf("put access token of bot %q", t.BotID), upsertAccessToken, accessTokenFields(&t)...)
	return err
}
