package sqlite

import (
	"fmt"
	"time"
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

// Setting implements group.Reader.
func (r *reader) Setting(key string) (string, error) {
	return getOne(r.c, text, fmt.Sprintf("setting %q", key), selectSetting, key)
}

// PutSetting implements group.Tx.
func (w *writer) PutSetting(key, value string) error {
	if _, err := w.c.exec(upsertSetting, key, value); err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
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
