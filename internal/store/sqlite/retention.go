package sqlite

import (
	"fmt"
	"time"
)

var (
	pruneEvents       = writeSQL(`DELETE FROM events WHERE created_at < ?`)
	pruneSessions     = writeSQL(`DELETE FROM sessions WHERE updated_at < ?`)
	pruneAccessTokens = writeSQL(`DELETE FROM access_tokens WHERE expires_at <= ?`)
	pruneNonces       = writeSQL(`DELETE FROM nonces WHERE expires_at <= ?`)
)

// Prune implements group.Tx. A token or nonce has expired when its expiry is
// not after now. Event seqs are unaffected: the next event continues after the
// pruned ones.
func (w *writer) Prune(eventsBefore, sessionsBefore, now time.Time) error {
	for _, p := range []struct {
		what, q string
		t       time.Time
	}{
		{"events", pruneEvents, eventsBefore},
		{"sessions", pruneSessions, sessionsBefore},
		{"access tokens", pruneAccessTokens, now},
		{"nonces", pruneNonces, now},
	} {
		if _, err := w.c.exec(p.q, p.t.UnixMilli()); err != nil {
			return fmt.Errorf("prune %s: %w", p.what, err)
		}
	}
	return nil
}
