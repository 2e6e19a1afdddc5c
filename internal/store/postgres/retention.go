package postgres

import "time"

// Prune implements group.Tx. A token or nonce has expired when its expiry is
// not after now. Event seqs are unaffected: the next event continues after
// the pruned ones.
func (w *writer) Prune(eventsBefore, sessionsBefore, now time.Time) error {
	for _, p := range []struct {
		what, q string
		t       time.Time
	}{
		{"events", `DELETE FROM events WHERE created_at < $1`, eventsBefore},
		{"sessions", `DELETE FROM sessions WHERE updated_at < $1`, sessionsBefore},
		{"access tokens", `DELETE FROM access_tokens WHERE expires_at <= $1`, now},
		{"nonces", `DELETE FROM nonces WHERE expires_at <= $1`, now},
	} {
		if _, err := w.c.exec("prune "+p.what, p.q, millis(p.t)); err != nil {
			return err
		}
	}
	return nil
}
