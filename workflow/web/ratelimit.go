package web

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter throttles failed logins per key (client IP and username).
// Only failures count, so a script that authenticates on every call is
// never throttled, while guessing passwords is.
type RateLimiter interface {
	// Allowed reports whether key may try to sign in now and, if not,
	// how long it must wait.
	Allowed(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
	// Failed records a failed sign-in by key.
	Failed(ctx context.Context, key string) error
}

// MemoryLimiter is a token bucket per key: burst failures at once, then
// one more every per/burst. It is per process, which is right for a single
// webserver; several processes share limits through RedisLimiter.
type MemoryLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	max     int // keys kept before idle ones are dropped
	now     func() time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastFail time.Time
}

// NewMemoryLimiter allows burst failures per window (Airflow's default is
// 5 per 40 seconds), refilling evenly over the window.
func NewMemoryLimiter(burst int, window time.Duration) *MemoryLimiter {
	return &MemoryLimiter{
		every:   rate.Every(window / time.Duration(burst)),
		burst:   burst,
		buckets: map[string]*bucket{},
		max:     100_000,
		now:     time.Now,
	}
}

// Allowed implements RateLimiter.
func (m *MemoryLimiter) Allowed(_ context.Context, key string) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	if b == nil {
		return true, 0, nil
	}
	now := m.now()
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return true, 0, nil
	}
	wait := time.Duration((1 - tokens) / float64(m.every) * float64(time.Second))
	return false, wait, nil
}

// Failed implements RateLimiter.
func (m *MemoryLimiter) Failed(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.buckets[key]
	if b == nil {
		if len(m.buckets) >= m.max {
			m.pruneLocked(now)
		}
		b = &bucket{lim: rate.NewLimiter(m.every, m.burst)}
		m.buckets[key] = b
	}
	b.lim.AllowN(now, 1) // spends a token if there is one
	b.lastFail = now
	return nil
}

// pruneLocked drops buckets that have refilled completely: they hold no
// state a fresh bucket would not.
func (m *MemoryLimiter) pruneLocked(now time.Time) {
	full := time.Duration(float64(m.burst) / float64(m.every) * float64(time.Second))
	for k, b := range m.buckets {
		if now.Sub(b.lastFail) > full {
			delete(m.buckets, k)
		}
	}
}
