package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
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
	deleteBotAccessTokens = `DELETE FROM access_tokens WHERE bot_id = $1`
)

// AccessToken implements qqbot.Store.
func (s *Store) AccessToken(ctx context.Context, token string) (group.AccessToken, error) {
	return viewOne(ctx, s, func(r *reader) (group.AccessToken, error) { return r.accessToken(token) })
}

// LatestAccessToken implements qqbot.Store.
func (s *Store) LatestAccessToken(ctx context.Context, botID string) (group.AccessToken, error) {
	return viewOne(ctx, s, func(r *reader) (group.AccessToken, error) { return r.latestAccessToken(botID) })
}

// IssueAccessToken implements qqbot.Store. Two nodes issuing a bot's token at
// once may both store one: both are valid, and the later one is the latest.
func (s *Store) IssueAccessToken(ctx context.Context, t group.AccessToken, reuseAfter time.Time) (group.AccessToken, error) {
	return updateOne(ctx, s, func(w *writer) (group.AccessToken, error) {
		latest, err := w.latestAccessToken(t.BotID)
		tok, put, err := store.ReuseAccessToken(latest, err, t, reuseAfter)
		if err != nil || !put {
			return tok, err
		}
		return tok, w.putAccessToken(tok)
	})
}

func (r *reader) accessToken(token string) (group.AccessToken, error) {
	// The token is a secret: it is not repeated in the error.
	return getOne(r.c, accessTokenFields, "access token", selectAccessToken, token)
}

func (r *reader) latestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenFields, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

func (w *writer) putAccessToken(t group.AccessToken) error {
	_, err := w.c.exec(fmt.Sprintf("put access token of bot %q", t.BotID), upsertAccessToken, accessTokenFields(&t)...)
	return err
}

// RevokeAccessTokens implements group.Tx.
func (w *writer) RevokeAccessTokens(botID string) error {
	_, err := w.c.exec(fmt.Sprintf("revoke access tokens of bot %q", botID), deleteBotAccessTokens, botID)
	return err
}
