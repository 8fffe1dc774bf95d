package notify

import (
	"context"
	"time"

	"github.com/sethvargo/go-retry"
)

// Backoff is how delivery is retried: up to Attempts tries, waiting about
// Base·2ⁿ (capped at Max) between them, jittered so receivers that come
// back are not hit by every aird at once.
type Backoff struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// The default backoff spans about a minute: long enough for a receiver
// restart, short enough that the bounded queue does not fill behind a
// dead one.
const (
	defaultAttempts = 5
	defaultBase     = time.Second
	defaultMax      = 30 * time.Second
)

func (b Backoff) withDefaults() Backoff {
	if b.Attempts <= 0 {
		b.Attempts = defaultAttempts
	}
	if b.Base <= 0 {
		b.Base = defaultBase
	}
	if b.Max < b.Base {
		b.Max = max(defaultMax, b.Base)
	}
	return b
}

// do runs fn until it succeeds, fails permanently, the attempts are used
// up or ctx ends; it returns the last error and the number of attempts.
func (b Backoff) do(ctx context.Context, fn func(context.Context) error) (int, error) {
	b = b.withDefaults()
	// ±50 % around the doubling wait: go-retry's closest to jitter between
	// half and the whole wait, and like it never a hot loop.
	backoff := retry.WithMaxRetries(uint64(b.Attempts-1),
		retry.WithJitterPercent(50, retry.WithCappedDuration(b.Max, retry.NewExponential(b.Base))))
	attempts := 0
	var last error
	err := retry.Do(ctx, backoff, func(ctx context.Context) error {
		attempts++
		if last = fn(ctx); last == nil || isPermanent(last) {
			return last
		}
		return retry.RetryableError(last)
	})
	if err != nil && last != nil {
		err = last // when ctx ended: the delivery's own error says more
	}
	return attempts, err
}
