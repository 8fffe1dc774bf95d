package state

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff between lock attempts: quick at first (a short plan releasing the
// lock), capped so a long wait does not hammer the backend.
const (
	lockRetryFirst = 100 * time.Millisecond
	lockRetryMax   = 2 * time.Second
)

// LockWithTimeout takes the lock, retrying with jittered backoff while
// someone else holds it, for up to timeout (`-lock-timeout`; 0 means try
// once). When time runs out it returns the last *LockedError, which names the
// holder. Errors other than a held lock are returned at once.
func LockWithTimeout(ctx context.Context, b Backend, info LockInfo, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	delay := lockRetryFirst
	for {
		id, err := b.Lock(ctx, info)
		var locked *LockedError
		if err == nil || !errors.As(err, &locked) {
			return id, err
		}
		if timeout <= 0 {
			return "", err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return "", fmt.Errorf("gave up waiting for the state lock after %s (-lock-timeout): %w", timeout, err)
		}
		if werr := sleep(ctx, min(jitter(delay), remaining)); werr != nil {
			return "", fmt.Errorf("stopped waiting for the state lock (%w): %w", werr, err)
		}
		delay = min(delay*2, lockRetryMax)
	}
}

// jitter spreads waiters out so several airctl runs queued on one lock do not
// retry in lockstep.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
