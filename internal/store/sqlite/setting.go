package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

var (
	selectSetting = readSQL(`SELECT value FROM settings WHERE key = ?`)
	upsertSetting = writeSQL(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
	// A nonce is taken when it is new or its record has expired: the insert
	// or the update changes a row. A live record makes it change none.
	useNonce = writeSQL(`INSERT INTO nonces (key, expires_at) VALUES (?1, ?2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?3`)
)

// Setting implements qqbot.Store.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	return viewOne(ctx, s, func(r *reader) (string, error) { return r.setting(key) })
}

// CreateSetting implements qqbot.Store.
func (s *Store) CreateSetting(ctx context.Context, key, value string) (string, error) {
	return updateOne(ctx, s, func(w *writer) (string, error) {
		cur, err := w.setting(key)
		if !group.IsNotExist(err) {
			return cur, err
		}
		if _, err := w.c.exec(upsertSetting, key, value); err != nil {
			return "", fmt.Errorf("put setting %q: %w", key, err)
		}
		return value, nil
	})
}

func (r *reader) setting(key string) (string, error) {
	return getOne(r.c, text, fmt.Sprintf("setting %q", key), selectSetting, key)
}

// UseNonce implements group.Tx.
func (w *writer) UseNonce(key string, expires, now time.Time) (bool, error) {
	res, err := w.c.exec(useNonce, key, expires.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("use nonce: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use nonce: %w", err)
	}
	return n > 0, nil
}
