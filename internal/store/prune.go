package store

import "time"

// PruneStatements are a dialect's statements of one prune batch, one per
// kind of row. Each deletes, oldest first, at most its second argument of
// rows past the cutoff given as its first (in the store's time form):
// created before it (events, bot messages), not updated since (sessions), or
// expired at it, their expiry not after it (access tokens, nonces). Events
// are pruned per bot from the first seq of its log, stopping at the first
// event not past the cutoff: an old event behind a younger one (a clock
// stepped back) is kept, so that a log never has a hole. An empty statement
// is skipped: the store prunes that kind its own way.
type PruneStatements struct {
	Events, Sessions, BotMessages, AccessTokens, Nonces string
}

// PruneCutoffs are the cutoffs of one prune batch.
type PruneCutoffs struct {
	EventsBefore, SessionsBefore, BotMessagesBefore, Now time.Time
}

// PruneBatch runs one prune batch: each kind's statement once, events first,
// with its cutoff and limit, through exec, which returns how many rows the
// statement deleted (what names the kind, for its errors). It returns how
// many rows it deleted in all, up to the first error; a limit below 1
// deletes nothing.
func PruneBatch(q PruneStatements, c PruneCutoffs, limit int,
	exec func(what, q string, cutoff time.Time, limit int) (int64, error)) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	deleted := 0
	for _, p := range []struct {
		what, q string
		t       time.Time
	}{
		{"events", q.Events, c.EventsBefore},
		{"sessions", q.Sessions, c.SessionsBefore},
		{"bot messages", q.BotMessages, c.BotMessagesBefore},
		{"access tokens", q.AccessTokens, c.Now},
		{"nonces", q.Nonces, c.Now},
	} {
		if p.q == "" {
			continue
		}
		n, err := exec(p.what, p.q, p.t, limit)
		if err != nil {
			return deleted, err
		}
		deleted += int(n)
	}
	return deleted, nil
}
