package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
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
	deleteBotAccessTokens = writeSQL(`DELETE FROM access_tokens WHERE bot_id = ?`)
)

// AccessToken implements qqbot.Store.
func (s *Store) AccessToken(ctx context.Context, token string) (group.AccessToken, error) {
	return viewOne(ctx, s, func(r *reader) (group.AccessToken, error) { return r.accessToken(token) })
}

// LatestAccessToken implements qqbot.Store.
func (s *Store) LatestAccessToken(ctx context.Context, botID string) (group.AccessToken, error) {
	return viewOne(ctx, s, func(r *reader) (group.AccessToken, error) { return r.latestAccessToken(botID) })
}

// IssueAccessToken implements qqbot.Store.
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
	return getOne(r.c, accessTokenColumns, "access token", selectAccessToken, token)
}

func (r *reader) latestAccessToken(botID string) (group.AccessToken, error) {
	return getOne(r.c, accessTokenColumns, fmt.Sprintf("access token of bot %q", botID), selectLatestAccessToken, botID)
}

func (w *writer) putAccessToken(t group.AccessToken) error {
	if _, err := w.c.exec(upsertAccessToken, accessTokenColumns(&t).ptrs()...); err != nil {
		return fmt.Errorf("put access token of bot %q: %w", t.BotID, err)
	}
	return nil
}

// RevokeAccessTokens implements group.Tx.
func (w *writer) RevokeAccessTokens(botID string) error {
	if _, err := w.c.exec(deleteBotAccessTokens, botID); err != nil {
		return fmt.Errorf("revoke access tokens of bot %q: %w", botID, err)
	}
	return nil
}
