package qqbot

import "sync"

// Bounds of the in-process caches.
const (
	// maxCachedTokens bounds the validated access tokens kept in memory.
	maxCachedTokens = 10_000
	// maxCachedOpenIDs bounds the openid mappings kept in memory.
	maxCachedOpenIDs = 200_000
)

// cache is a bounded map of two generations: when the current one is full it
// becomes the old one and the previous old one is dropped, so at most 2*max
// entries are kept and recently used entries survive.
type cache[K comparable, V any] struct {
	mu       sync.Mutex
	max      int
	cur, old map[K]V
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{max: max, cur: make(map[K]V)}
}

// get returns the value cached for k.
func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	v, ok := c.old[k]
	if ok {
		c.putLocked(k, v)
	}
	return v, ok
}

// put caches v for k.
func (c *cache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, v)
}

func (c *cache[K, V]) putLocked(k K, v V) {
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[K]V)
	}
	c.cur[k] = v
}

// remove forgets k.
func (c *cache[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, k)
	delete(c.old, k)
}

// removeIf forgets every entry drop reports true for: one pass over at most
// 2*max entries, for rare changes (a bot's secret reset).
func (c *cache[K, V]) removeIf(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range []map[K]V{c.cur, c.old} {
		for k, v := range m {
			if drop(k, v) {
				delete(m, k)
			}
		}
	}
}
