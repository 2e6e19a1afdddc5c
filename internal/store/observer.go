package store

import "time"

// Observer receives a store's measurements as they happen, for metrics: the
// stores call it, internal/metrics implements it, and no store imports
// Prometheus. It is called on the stores' own goroutines (the SQLite writer
// among them), so it must be cheap and safe for concurrent use.
type Observer interface {
	// Committed is called after every committed transaction of Updates:
	// how many Updates it held (a batch of either store) and how
	// many events they appended.
	Committed(updates, events int)
	// Waited is called when the SQLite writer takes an Update from its
	// queue, with how long the Update waited there.
	Waited(d time.Duration)
	// Retried is called when PostgreSQL aborted an Update's transaction
	// (a deadlock or a serialization failure) and the Update runs again.
	Retried()
}

// NopObserver observes nothing: the stores' default.
type NopObserver struct{}

// Committed implements Observer.
func (NopObserver) Committed(int, int) {}

// Waited implements Observer.
func (NopObserver) Waited(time.Duration) {}

// Retried implements Observer.
func (NopObserver) Retried() {}
