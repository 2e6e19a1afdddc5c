package sqlite

import (
	"context"
	"fmt"

	"github.com/qun-chat/qun/internal/group"
)

var (
	selectSetting = readSQL(`SELECT value FROM settings WHERE key = ?`)
	upsertSetting = writeSQL(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
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
