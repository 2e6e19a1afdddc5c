package wildfire

import (
	"context"
	"errors"
	"fmt"
	"github.com/qun-chat/qun/internal/store/sqlite"
	"path/filepath"
	"testing"
	"time"
)

func TestMemoryNonces(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	c := NewMemoryNonces()
	c.Now = func() time.Time { return now }
	ctx := context.Background()
	use := func(key string, expires time.Time) bool {
		t.Helper()
		fresh, err := c.Use(ctx, key, now, expires)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	exp := now.Add(time.Minute)
	if !use("a", exp) || use("a", exp) || use("a", exp.Add(time.Hour)) {
		t.Fatal("a second use of a key must be refused, whatever its expiry")
	}
	if !use("b", exp) {
		t.Fatal("another key is fresh")
	}
	// Until it expires the key is held; a bucket later it is forgotten.
	now = exp.Add(-time.Millisecond)
	if use("a", exp) {
		t.Fatal("a forgotten before its expiry")
	}
	now = exp.Add(nonceBucket)
	if !use("a", now.Add(time.Minute)) {
		t.Fatal("a still held a bucket after its expiry")
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len %d after forgetting, want 1", got)
	}
	// A key that has already expired is never stored.
	for i := range 2 {
		if !use("old", now) {
			t.Errorf("use %d of an expired key refused: it must be fresh", i+1)
		}
	}
}

func TestMemoryNoncesBounded(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	c := &MemoryNonces{Now: func() time.Time { return now }, Max: 100} // the zero value works too
	ctx := context.Background()
	for i := range 100 {
		if fresh, err := c.Use(ctx, fmt.Sprint(i), now, now.Add(time.Duration(i+1)*time.Second)); !fresh || err != nil {
			t.Fatalf("key %d: %v %v", i, fresh, err)
		}
	}
	if _, err := c.Use(ctx, "full", now, now.Add(time.Minute)); !errors.Is(err, ErrNoncesFull) {
		t.Fatalf("over Max: %v, want ErrNoncesFull", err)
	}
	// Time frees the expired buckets.
	now = now.Add(time.Minute)
	if fresh, err := c.Use(ctx, "full", now, now.Add(time.Minute)); !fresh || err != nil {
		t.Fatalf("after expiry: %v %v", fresh, err)
	}
	if got := c.Len(); got > 100-50 {
		t.Errorf("Len %d: expired keys kept", got)
	}
	// A large clock jump forgets everything at once.
	now = now.Add(24 * time.Hour)
	c.Use(ctx, "x", now, now.Add(time.Second))
	if got := c.Len(); got != 1 {
		t.Errorf("Len %d after a day, want 1", got)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	l := newRateLimiter(10, func() time.Time { return now })
	for i := range 10 {
		if !l.allow("r") {
			t.Fatalf("call %d of the burst refused", i)
		}
	}
	if l.allow("r") {
		t.Fatal("call 11 allowed")
	}
	if !l.allow("other") {
		t.Fatal("another key refused")
	}
	now = now.Add(time.Second) // drains one call (10 per 10 s)
	if !l.allow("r") || l.allow("r") {
		t.Fatal("after 1 s exactly one more call fits")
	}
	if newRateLimiter(0, time.Now) != nil {
		t.Error("rate 0 must mean no limiter")
	}
}

func TestRateLimiterSweeps(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	l := newRateLimiter(1000, func() time.Time { return now })
	for i := range DefaultRateBuckets {
		l.allow(fmt.Sprint(i))
	}
	now = now.Add(RobotRatePeriod) // every bucket has drained
	l.allow("new")
	if got := len(l.buckets); got != 1 {
		t.Errorf("%d buckets after a sweep, want 1", got)
	}
}

func TestStoreNonces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qun.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	a := NewStoreNonces(st, clock)
	b := NewStoreNonces(st, clock) // another node on the same store, or this one after a restart
	ctx := context.Background()
	signed, exp := now, now.Add(time.Minute)
	for _, step := range []struct {
		name  string
		c     *StoreNonces
		key   string
		fresh bool
	}{
		{"first use", a, "r|1|1", true},
		{"replay on the same node", a, "r|1|1", false},
		{"replay on another node", b, "r|1|1", false},
		{"another key", b, "r|2|1", true},
		{"its replay on the first node", a, "r|2|1", false},
	} {
		fresh, err := step.c.Use(ctx, step.key, signed, exp)
		if err != nil || fresh != step.fresh {
			t.Fatalf("%s: fresh %v, err %v; want %v", step.name, fresh, err, step.fresh)
		}
	}

	// A key whose record could not be written may be used again: the
	// request was refused, not accepted.
	st.Close()
	if _, err := a.Use(ctx, "r|3|1", signed, exp); err == nil {
		t.Fatal("Use on a closed store succeeded")
	}
	if st, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	a.store = st
	if fresh, err := a.Use(ctx, "r|3|1", signed, exp); err != nil || !fresh {
		t.Fatalf("key whose record failed: fresh %v, err %v; want true", fresh, err)
	}
	// A new process on the reopened store remembers what the old one used.
	a = NewStoreNonces(st, clock)
	for _, key := range []string{"r|1|1", "r|2|1", "r|3|1"} {
		if fresh, err := a.Use(ctx, key, signed, exp); err != nil || fresh {
			t.Fatalf("%s replayed after a restart: fresh %v, err %v; want false", key, fresh, err)
		}
	}

	now = now.Add(2 * time.Minute)
	if fresh, err := a.Use(ctx, "r|1|1", now, now.Add(time.Minute)); err != nil || !fresh {
		t.Fatalf("after expiry: fresh %v, err %v", fresh, err)
	}
}
