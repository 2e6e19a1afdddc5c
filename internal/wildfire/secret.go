package wildfire

import (
	"context"
	"sync"
	"time"
)

// Robot secret cache limits.
const (
	// DefaultSecretCacheTTL is how long a robot's secret is trusted from memory
	// before it is read from the store again: a changed secret or a deleted
	// robot takes effect within it. Reading it on every call would cost a
	// store read per signed request, a third of a no-op call's time.
	DefaultSecretCacheTTL = 5 * time.Second
	// DefaultSecretCacheSize bounds the robots cached; a full cache is emptied.
	DefaultSecretCacheSize = 100_000
)

// secretCache keeps robots' Wildfire secrets for DefaultSecretCacheTTL.
type secretCache struct {
	mu sync.Mutex
	m  map[string]cachedSecret
}

type cachedSecret struct {
	secret string
	until  time.Time
}

// robotSecret returns the robot's secret, from the cache or the store.
func (a *api) robotSecret(ctx context.Context, rid string) (string, error) {
	now := a.now()
	c := &a.secrets
	c.mu.Lock()
	e, ok := c.m[rid]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.secret, nil
	}
	_, bot, err := a.svc.GetRobot(ctx, rid)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= DefaultSecretCacheSize {
		c.m = make(map[string]cachedSecret)
	}
	c.m[rid] = cachedSecret{secret: bot.Secret, until: now.Add(DefaultSecretCacheTTL)}
	c.mu.Unlock()
	return bot.Secret, nil
}
