package qqbot

import (
	"sync"
	"time"
)

// limiter is a token bucket per key: up to n events at once, refilled at n per
// period. A negative n never limits.
type limiter struct {
	n      int
	period time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(n int, period time.Duration) *limiter {
	return &limiter{n: n, period: period, buckets: make(map[string]*bucket)}
}

// allow takes one token of key's bucket at now; it reports false if the bucket is empty.
func (l *limiter) allow(key string, now time.Time) bool {
	if l.n < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.n), last: now}
		l.buckets[key] = b
	}
	b.refill(l, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(l *limiter, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens += float64(l.n) * float64(d) / float64(l.period)
		if b.tokens > float64(l.n) {
			b.tokens = float64(l.n)
		}
		b.last = now
	}
}

// prune forgets the buckets that are full again: they limit nothing.
func (l *limiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		b.refill(l, now)
		if b.tokens >= float64(l.n) {
			delete(l.buckets, k)
		}
	}
}
