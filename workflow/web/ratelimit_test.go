package web

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airctl/airctl/internal/testenv"
)

// limiterContract is what both limiters must do: only failures count,
// keys are independent, a client past the limit is told how long to wait.
func limiterContract(t *testing.T, l RateLimiter, burst int) {
	ctx := context.Background()
	for i := range burst {
		if ok, _, err := l.Allowed(ctx, "ip|alice"); !ok || err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		if err := l.Failed(ctx, "ip|alice"); err != nil {
			t.Fatal(err)
		}
	}
	ok, wait, err := l.Allowed(ctx, "ip|alice")
	if ok || err != nil || wait <= 0 {
		t.Fatalf("past the limit: ok=%v wait=%v err=%v", ok, wait, err)
	}
	if ok, _, _ := l.Allowed(ctx, "ip|bob"); !ok {
		t.Fatal("another key is limited too")
	}
}

func TestMemoryLimiter(t *testing.T) {
	l := NewMemoryLimiter(5, 40*time.Second)
	now := time.Now()
	l.now = func() time.Time { return now }
	limiterContract(t, l, 5)
	// One token comes back every 8 s.
	_, wait, _ := l.Allowed(context.Background(), "ip|alice")
	if wait < 7*time.Second || wait > 8*time.Second {
		t.Fatalf("wait %v, want about 8s", wait)
	}
	now = now.Add(8 * time.Second)
	if ok, _, _ := l.Allowed(context.Background(), "ip|alice"); !ok {
		t.Fatal("no token after the refill time")
	}
	// Full buckets are dropped when the table is pruned.
	l.max = 1
	now = now.Add(time.Hour)
	if err := l.Failed(context.Background(), "ip|carol"); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.buckets["ip|alice"]; ok || len(l.buckets) != 1 {
		t.Fatalf("buckets after prune: %v", len(l.buckets))
	}
}

func newRedisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries, opt.DialTimeout = 1, time.Second
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisLimiter(t *testing.T) {
	srv := testenv.Redis(t)
	limiterContract(t, NewRedisLimiter(newRedisClient(t, srv.URL()), 3, time.Minute), 3)
	// Another webserver process sharing the Redis sees the same limit.
	other := NewRedisLimiter(newRedisClient(t, srv.URL()), 3, time.Minute)
	if ok, wait, _ := other.Allowed(context.Background(), "ip|alice"); ok || wait > time.Minute {
		t.Fatalf("second process: ok=%v wait=%v", ok, wait)
	}
}

// TestRedisDownFailsOpen: an unreachable Redis does not lock everyone out.
func TestRedisDownFailsOpen(t *testing.T) {
	l := NewRedisLimiter(newRedisClient(t, "redis://127.0.0.1:1/1"), 1, time.Minute)
	e := newEnv(t, func(o *Options) { o.RateLimiter = l })
	expect(t, e.as("viewer", "GET", "/api/v1/dags", nil), 200)
	if _, _, err := l.Allowed(context.Background(), "k"); err == nil {
		t.Fatal("no error from an unreachable Redis")
	}
}
