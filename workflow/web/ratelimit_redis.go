package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter counts failed logins in fixed windows in Redis, so every
// webserver process shares the limits, as the reference deployment's
// Flask-Limiter does with rate_limit_storage_uri (Redis db 1).
type RedisLimiter struct {
	client redis.Cmdable
	limit  int64
	window time.Duration
}

// NewRedisLimiter allows limit failures per window per key, counted in
// the database client talks to. The caller owns (and closes) client; sign-in
// waits on it, so short dial timeouts and few retries suit it.
func NewRedisLimiter(client redis.Cmdable, limit int, window time.Duration) *RedisLimiter {
	return &RedisLimiter{client: client, limit: int64(limit), window: window}
}

// redisKey hashes the key: it holds a username and an IP, which need not
// be readable by whoever else uses that Redis database.
func (l *RedisLimiter) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "aird:login-failures:" + hex.EncodeToString(sum[:16])
}

// Allowed implements RateLimiter.
func (l *RedisLimiter) Allowed(ctx context.Context, key string) (bool, time.Duration, error) {
	k := l.redisKey(key)
	n, err := l.client.Get(ctx, k).Int64()
	if errors.Is(err, redis.Nil) {
		return true, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if n < l.limit {
		return true, 0, nil
	}
	ttl, err := l.client.PTTL(ctx, k).Result()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return false, max(ttl, time.Second), nil
}

// Failed implements RateLimiter. The window starts at the first failure
// (EXPIRE NX), so later failures do not push it out forever.
func (l *RedisLimiter) Failed(ctx context.Context, key string) error {
	k := l.redisKey(key)
	_, err := l.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, k)
		p.ExpireNX(ctx, k, l.window)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	return nil
}
