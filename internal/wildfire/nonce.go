package wildfire

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// NonceCache remembers the signed requests seen recently so that a captured
// request cannot be replayed. Wildfire has no such cache; qun adds it.
type NonceCache interface {
	// Use records key, the key of a request signed at signed (its
	// timestamp), until expires. It reports fresh=false if key was recorded
	// already and has not expired.
	Use(ctx context.Context, key string, signed, expires time.Time) (fresh bool, err error)
}

// NonceStore is what the door needs of a store for nonces: a record that
// outlives the process, and that every node sharing the store sees. Both
// stores implement it.
type NonceStore interface {
	// UseNonce records key until expires unless a record of it has not
	// expired at now (expired: expires <= now), and reports whether it
	// recorded it. Once it has reported true the record is durable.
	UseNonce(ctx context.Context, key string, expires, now time.Time) (fresh bool, err error)
	// BindNonce returns ctx with key bound to it, so that a signed write
	// records its nonce in its own transaction: the first Update of the
	// store made with the returned context records key first, as UseNonce
	// would, and fails if key has a live record, none of its function's
	// writes committed (a store may run the function before it has the
	// record's answer, sending both in one round trip). Once the request is served, result reports whether key was
	// recorded (fresh) and whether that answer is known (ok); it is not
	// when no Update claimed key or its transaction did not commit, and
	// then the door asks UseNonce.
	BindNonce(ctx context.Context, key string, expires, now time.Time) (_ context.Context, result func() (fresh, ok bool))
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
func (c *MemoryNonces) Use(_ context.Context, key string, _, expires time.Time) (bool, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if !expires.After(now) {
		return true, nil // it could not be replayed inside its window anyway
	}
	k := memoryKey(key)
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

// memoryKey is the hash a MemoryNonces holds for key.
func memoryKey(key string) nonceKey {
	sum := sha256.Sum256([]byte(key))
	var k nonceKey
	copy(k[:], sum[:])
	return k
}

// release forgets key at once, so that a request whose use could not be
// recorded elsewhere may be sent again.
func (c *MemoryNonces) release(key string) {
	k := memoryKey(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.expires, k) // its bucket entry is dropped, harmlessly, with the bucket
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

// StoreNonces is a NonceCache kept in a NonceStore, with a MemoryNonces in
// front. A request this process has seen is refused by the memory alone; one
// it has not seen is recorded in the store before it is answered, so that it
// is refused when replayed after a restart, or to another node sharing the
// store. The door records a write's nonce in the write's own transaction
// (see NonceStore.BindNonce); Use records it on its own.
type StoreNonces struct {
	store  NonceStore
	memory *MemoryNonces
	now    func() time.Time
}

var _ NonceCache = (*StoreNonces)(nil)

// NewStoreNonces returns a StoreNonces over store on the clock now (nil:
// time.Now). Its memory holds at most DefaultMaxNonces keys, as a
// MemoryNonces does.
func NewStoreNonces(store NonceStore, now func() time.Time) *StoreNonces {
	if now == nil {
		now = time.Now
	}
	m := NewMemoryNonces()
	m.Now = now
	return &StoreNonces{store: store, memory: m, now: now}
}

// Use implements NonceCache: bind, with no write to record the key in.
func (c *StoreNonces) Use(ctx context.Context, key string, signed, expires time.Time) (bool, error) {
	_, settle, fresh, err := c.bind(ctx, key, signed, expires)
	if err != nil || !fresh {
		return fresh, err
	}
	return settle()
}

// bind is Use in two steps, for a request that may write. It checks key
// against the memory and binds it to the context the request is to be
// served with; settle, called once the request has been served, reports
// whether key was fresh, asking the store on its own if no write recorded it.
// fresh=false (or an error) refuses the request at once, and settle is nil.
func (c *StoreNonces) bind(ctx context.Context, key string, signed, expires time.Time) (_ context.Context, settle func() (bool, error), fresh bool, err error) {
	if fresh, err = c.memory.Use(ctx, key, signed, expires); err != nil || !fresh {
		return ctx, nil, fresh, err
	}
	sk, now := storeKey(key, signed), c.now()
	served, result := c.store.BindNonce(ctx, sk, expires, now)
	return served, func() (bool, error) {
		if fresh, ok := result(); ok {
			return fresh, nil
		}
		fresh, err := c.store.UseNonce(ctx, sk, expires, now)
		if err != nil {
			c.memory.release(key) // refused, not accepted: it may be sent again
		}
		return fresh, err
	}, true, nil
}

// storeKey is the key a StoreNonces gives its store for key: the signing time
// in milliseconds as 12 hex digits, then 32 hex digits of key's SHA-256. The
// time first keeps the keys of one moment together in the store's index, so
// that a commit of many of them writes a few pages, not one page each.
func storeKey(key string, signed time.Time) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%012x%x", max(signed.UnixMilli(), 0), sum[:16])
}
