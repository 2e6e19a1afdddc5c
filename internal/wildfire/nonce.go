package wildfire

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// NonceCache remembers the signed requests seen recently so that a captured
// request cannot be replayed. Wildfire has no such cache; qun adds it.
type NonceCache interface {
	// Use records key until expires. It reports fresh=false if key was
	// recorded already and has not expired.
	Use(ctx context.Context, key string, expires time.Time) (fresh bool, err error)
}

// DefaultMaxNonces bounds the keys a MemoryNonces holds. A key lives until
// its timestamp plus the window, about 5 minutes for a current client, so
// this covers about 14,000 signed calls/s sustained; each key costs about 60
// bytes (some 250 MB when full).
const DefaultMaxNonces = 1 << 22

// nonceBucket is the granularity at which MemoryNonces forgets keys: a key
// lives at most this much longer than asked.
const nonceBucket = 10 * time.Second

// ErrNoncesFull is returned by MemoryNonces.Use when it holds Max keys that
// have not expired yet. The door answers 250 "over frequency": refusing is
// safer than forgetting keys early, and only correctly signed requests reach
// the cache, so only key holders can fill it.
var ErrNoncesFull = errors.New("wildfire: nonce cache is full")

// MemoryNonces is a NonceCache in memory, for a single node. Keys are hashed
// to 16 bytes and grouped by when they expire, so forgetting them costs one
// map deletion per 10-second bucket, and memory stays bounded by Max.
type MemoryNonces struct {
	// Now is the clock; nil means time.Now. Set it before the first Use.
	Now func() time.Time
	// Max bounds the keys held; 0 means DefaultMaxNonces.
	Max int

	mu      sync.Mutex
	expires map[nonceKey]int64   // key → expiry bucket
	buckets map[int64][]nonceKey // expiry bucket → its keys
	oldest  int64                // no bucket below this index is left
}

type nonceKey [16]byte

var _ NonceCache = (*MemoryNonces)(nil)

// NewMemoryNonces returns an empty MemoryNonces.
func NewMemoryNonces() *MemoryNonces {
	return &MemoryNonces{
		expires: make(map[nonceKey]int64),
		buckets: make(map[int64][]nonceKey),
	}
}

// bucketOf returns the index of the bucket that t falls in.
func bucketOf(t time.Time) int64 { return t.UnixMilli() / nonceBucket.Milliseconds() }

// Use implements NonceCache.
func (c *MemoryNonces) Use(_ context.Context, key string, expires time.Time) (bool, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if !expires.After(now) {
		return true, nil // it could not be replayed inside its window anyway
	}
	sum := sha256.Sum256([]byte(key))
	var k nonceKey
	copy(k[:], sum[:])
	// A key is forgotten once the bucket of its expiry is wholly in the past,
	// up to nonceBucket after it expired, never before.
	cur := bucketOf(now)
	exp := bucketOf(expires)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expires == nil { // a zero MemoryNonces works too
		c.expires, c.buckets = make(map[nonceKey]int64), make(map[int64][]nonceKey)
	}
	c.forget(cur)
	if _, seen := c.expires[k]; seen {
		return false, nil
	}
	limit := c.Max
	if limit <= 0 {
		limit = DefaultMaxNonces
	}
	if len(c.expires) >= limit {
		return false, ErrNoncesFull
	}
	c.expires[k] = exp
	c.buckets[exp] = append(c.buckets[exp], k)
	return true, nil
}

// forget drops every bucket below cur.
func (c *MemoryNonces) forget(cur int64) {
	if cur <= c.oldest {
		return
	}
	if cur-c.oldest > int64(len(c.buckets)) {
		// The clock jumped far (or this is the first call): walking the map
		// is cheaper than walking the indexes.
		for b, keys := range c.buckets {
			if b < cur {
				c.drop(b, keys)
			}
		}
	} else {
		for b := c.oldest; b < cur; b++ {
			if keys, ok := c.buckets[b]; ok {
				c.drop(b, keys)
			}
		}
	}
	c.oldest = cur
}

func (c *MemoryNonces) drop(b int64, keys []nonceKey) {
	for _, k := range keys {
		if c.expires[k] == b {
			delete(c.expires, k)
		}
	}
	delete(c.buckets, b)
}

// Len returns how many keys are held; for tests and metrics.
func (c *MemoryNonces) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}

// StoreNonces is a NonceCache kept in the group.Store, so that every node on
// a shared store (PostgreSQL) refuses a request replayed to any of them. It
// costs one store transaction per signed call; one node on SQLite does better
// with MemoryNonces.
type StoreNonces struct {
	Store group.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ NonceCache = StoreNonces{}

// Use implements NonceCache. Keys are stored as 32 hex characters of their SHA-256.
func (c StoreNonces) Use(ctx context.Context, key string, expires time.Time) (bool, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if !expires.After(now) {
		return true, nil
	}
	sum := sha256.Sum256([]byte(key))
	k := hex.EncodeToString(sum[:16])
	var fresh bool
	err := c.Store.Update(ctx, func(tx group.Tx) (err error) {
		fresh, err = tx.UseNonce(k, expires, now)
		return err
	})
	return fresh, err
}
