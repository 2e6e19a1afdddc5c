package wildfire

import (
	"sync"
	"time"
)

// RobotRatePeriod is the period RobotRate counts over, as Wildfire's
// "10秒1000次" (RateLimiter(10, http.robot.rate_limit)).
const RobotRatePeriod = 10 * time.Second

// DefaultRateBuckets is how many per-robot buckets the limiter keeps before
// it sweeps the drained ones. The limiter runs before the signature check (as
// Wildfire's does), so strangers choose the keys; the sweep keeps memory
// proportional to the calls of the last RobotRatePeriod.
const DefaultRateBuckets = 1 << 14

// rateLimiter is a leaky bucket per key: a burst of rate calls, draining
// rate per RobotRatePeriod.
type rateLimiter struct {
	rate float64 // bucket size, calls
	leak float64 // calls drained per millisecond
	now  func() time.Time

	mu        sync.Mutex
	buckets   map[string]*leakyBucket
	sweepSize int // sweep when the map grows past this
}

type leakyBucket struct {
	level float64 // calls in the bucket at at
	at    int64   // unix ms of the last update
}

// newRateLimiter returns a limiter of rate calls per RobotRatePeriod, or nil
// when rate is 0 (no limit).
func newRateLimiter(rate int, now func() time.Time) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	return &rateLimiter{
		rate:      float64(rate),
		leak:      float64(rate) / float64(RobotRatePeriod.Milliseconds()),
		now:       now,
		buckets:   make(map[string]*leakyBucket),
		sweepSize: DefaultRateBuckets,
	}
}

// allow reports whether one more call of key fits, and counts it if it does.
func (l *rateLimiter) allow(key string) bool {
	now := l.now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.sweepSize {
			l.sweep(now)
		}
		b = &leakyBucket{at: now}
		l.buckets[key] = b
	}
	l.drain(b, now)
	if b.level+1 > l.rate {
		return false
	}
	b.level++
	return true
}

// drain lets the calls since b.at leak out.
func (l *rateLimiter) drain(b *leakyBucket, now int64) {
	if now > b.at {
		b.level -= float64(now-b.at) * l.leak
		if b.level < 0 {
			b.level = 0
		}
		b.at = now
	}
}

// sweep drops the buckets that have drained: they are the same as absent ones.
func (l *rateLimiter) sweep(now int64) {
	for k, b := range l.buckets {
		l.drain(b, now)
		if b.level == 0 {
			delete(l.buckets, k)
		}
	}
	// Sweep again only after the map has doubled, so a flood of distinct
	// keys costs amortised O(1) per call.
	l.sweepSize = max(DefaultRateBuckets, 2*len(l.buckets))
}
