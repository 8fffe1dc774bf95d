package notify

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is how delivery is retried: up to Attempts tries, waiting a
// random time up to Base·2ⁿ (capped at Max) between them ("full jitter",
// so receivers that come back are not hit by every aird at once).
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
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(ctx); err == nil || isPermanent(err) || attempt == b.Attempts {
			return attempt, err
		}
		t := time.NewTimer(b.wait(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, err
		case <-t.C:
		}
	}
}

// wait is the jittered pause after the given failed attempt.
func (b Backoff) wait(attempt int) time.Duration {
	ceil := b.Base
	for i := 1; i < attempt && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	return ceil/2 + rand.N(ceil/2+1) // at least half: never a hot loop
}
