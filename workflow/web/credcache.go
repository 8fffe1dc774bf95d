package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// credCache remembers recently verified Basic credentials. bcrypt costs
// tens of milliseconds by design, and Basic auth sends the password with
// every API call; without the cache every call would pay it.
//
// Entries are keyed by an HMAC, under a per-process random key, of the
// username, password and stored hash: the cache holds no password, and a
// changed password (a new hash) misses at once.
type credCache struct {
	mu      sync.Mutex
	key     []byte
	ttl     time.Duration
	max     int
	entries map[[sha256.Size]byte]time.Time // → expiry
	now     func() time.Time
}

func newCredCache(max int, ttl time.Duration) *credCache {
	return &credCache{key: []byte(rand.Text()), ttl: ttl, max: max, entries: map[[sha256.Size]byte]time.Time{}, now: time.Now}
}

func (c *credCache) sum(username, password, hash string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	for _, part := range []string{username, password, hash} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

func (c *credCache) ok(username, password, hash string) bool {
	k := c.sum(username, password, hash)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, hit := c.entries[k]
	if hit && c.now().After(exp) {
		delete(c.entries, k)
		return false
	}
	return hit
}

func (c *credCache) add(username, password, hash string) {
	k := c.sum(username, password, hash)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		for k, exp := range c.entries {
			if now.After(exp) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries) // a miss only costs one bcrypt check
		}
	}
	c.entries[k] = now.Add(c.ttl)
}
