package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

var (
	// A setting may be created by "read, not found, put" (a server key
	// generated on first start, by several nodes at once): in an Update
	// a missing key is locked too, so only the first one creates it.
	selectSetting = keyed(`SELECT value FROM settings WHERE key = $1`, lockSettingKey)
	upsertSetting = `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	// A nonce is taken when it is new or its record has expired: the insert
	// or the update changes a row. A live record makes it change none; a
	// concurrent use of the same nonce waits for the first to commit.
	useNonce = `INSERT INTO nonces AS n (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE n.expires_at <= $3`
)

// Setting implements qqbot.Store.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	return viewOne(ctx, s, func(r *reader) (string, error) { return r.setting(key) })
}

// CreateSetting implements qqbot.Store. The read of a missing key locks it,
// so of several nodes creating one key only the first stores its value.
func (s *Store) CreateSetting(ctx context.Context, key, value string) (string, error) {
	return updateOne(ctx, s, func(w *writer) (string, error) {
		cur, err := w.setting(key)
		if !group.IsNotExist(err) {
			return cur, err
		}
		return value, w.putSetting(key, value)
	})
}

func (r *reader) setting(key string) (string, error) {
	return getKeyed(r.c, text, fmt.Sprintf("setting %q", key), selectSetting, key, key)
}

func (w *writer) putSetting(key, value string) error {
	_, err := w.c.exec(fmt.Sprintf("put setting %q", key), upsertSetting, key, value)
	return err
}

// UseNonce implements group.Tx.
func (w *writer) UseNonce(key string, expires, now time.Time) (bool, error) {
	// The nonce is a client's: it is not repeated in the error.
	tag, err := w.c.exec("use nonce", useNonce, key, millis(expires), millis(now))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
