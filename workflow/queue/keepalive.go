package queue

import (
	"context"
	"errors"
	"time"
)

// KeepAlive extends l every interval until ctx ends (nil) or the lease is
// lost to another consumer (ErrLeaseLost: the caller's run is now a
// duplicate and may stop). A failed extension (broker unreachable) is
// retried at the next tick, as the lease may outlive a short outage. Leases
// that do not expire (no Extender) just wait for ctx. Pick interval at most
// a third of the lease so one missed tick is survivable.
func KeepAlive(ctx context.Context, l Lease, interval time.Duration) error {
	e, ok := l.(Extender)
	if !ok {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := e.Extend(ctx); errors.Is(err, ErrLeaseLost) {
			return err
		}
	}
}
