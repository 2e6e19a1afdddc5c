package postgres

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

var (
	// A setting may be created by "read, not found, put" (a server key
	// generated on first start, by several nodes at once): in an Update
	// a missing key is locked too, so only the first one creates it.
	selectSetting = keyed(`SELECT value FROM settings WHERE key = $1`, lockSettingKey)
	upsertSetting = `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
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
	return w.c.later(fmt.Sprintf("put setting %q", key), upsertSetting, key, value)
}
