package sqlite

import (
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

func accessTokenColumns(t *group.AccessToken) columns {
	return columns{
		{"token", &t.Token},
		{"bot_id", &t.BotID},
		{"expires_at", millis{&t.ExpiresAt}},
		{"created_at", millis{&t.CreatedAt}},
	}
}

var (
	accessTokenCols = accessTokenColumns(new(group.AccessToken))

	selectAccessToken       = readSQL(`SELECT ` + accessTokenCols.list() + ` FROM access_tokens WHERE token = ?`)
	selectLatestAccessToken = readSQL(`SELECT ` + accessTokenCols.list() + ` FROM access_tokens
		WHERE bot_id = ? ORDER BY expires_at DESC, created_at DESC, token DESC LIMIT 1`)
	upsertAccessToken = writeSQL(`INSERT INTO access_tokens (` + accessTokenCols.list() + `) VALUES (` + accessTokenCols.marks() + `)
		ON CONFLICT (token) DO UPDATE SET ` + accessTokenCols.except("token").assign())
)

// AccessToken implements group.Reader.
func (r *reader) AccessToken(token string) (group.AccessToken, error) {
	// The token is a secret: it is not repeated in the error.
	return getOne(r.c, accessTokenColumns, "access token", selectAccessToken, token)
}

// LatestAccessToken implements group.Reader.
func (r *reader) LatestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenColumns, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

// PutAccessToken implements group.Tx.
func (w *writer) PutAccessToken(t group.AccessToken) error {
	if _, err := w.c.exec(upsertAccessToken, accessTokenColumns(&t).ptrs()...); err != nil {
		return fmt.Errorf("put access token of bot %q: %w", t.BotID, err)
	}
	return nil
}
