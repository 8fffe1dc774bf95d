package queue

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-retry"
)

// broadcaster wakes every waiter at once: a channel closed and replaced on
// each wake-up, as Local does. Waking all local Pops for one message costs
// a few empty script runs; it keeps the wake-up impossible to lose.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() broadcaster { return broadcaster{ch: make(chan struct{})} }

func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcaster) broadcast() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}

// startWaker subscribes, once per queue, to the wake channel that Push,
// Requeue and lease reclaims publish to. It waits briefly for the
// subscription so that the first Pop already hears pushes; if Redis is down
// the listen loop keeps trying and Pop falls back to PollInterval.
func (r *Redis) startWaker() {
	r.wakerOnce.Do(func() {
		ps := r.client.Subscribe(r.ctx, r.k.wake)
		ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
		_, _ = ps.Receive(ctx) // the subscription confirmation
		cancel()
		started := r.goBackground(func() {
			stop := context.AfterFunc(r.ctx, func() { _ = ps.Close() })
			defer stop()
			// A confirmation after the first is a resubscription after a
			// reconnect: wake-ups may have been missed meanwhile.
			r.listen(r.ctx, ps, func(any) { r.wake.broadcast() })
		})
		if !started {
			_ = ps.Close()
		}
	})
}

// listen receives from ps until ctx ends, handing each message and
// subscription confirmation to handle. go-redis reconnects and resubscribes
// a PubSub on the next receive after an error; listen only paces retries
// and pings a quiet connection so a dead one is found.
func (r *Redis) listen(ctx context.Context, ps *redis.PubSub, handle func(any)) {
	backoff := reconnectBackoff()
	for {
		msg, err := ps.ReceiveTimeout(ctx, time.Minute)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				_ = ps.Ping(ctx)
				continue
			}
			if !sleepCtx(ctx, nextWait(backoff)) {
				return
			}
			continue
		}
		backoff = reconnectBackoff()
		switch msg.(type) {
		case *redis.Message, *redis.Subscription:
			handle(msg)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// reconnectBackoff doubles from 50 ms to 2 s with ±25 % jitter, so workers
// that lost Redis together do not reconnect in lockstep. A fresh one
// starts over after a success.
func reconnectBackoff() retry.Backoff {
	return retry.WithJitterPercent(25, retry.WithCappedDuration(2*time.Second, retry.NewExponential(50*time.Millisecond)))
}

// nextWait is b's next wait; the backoff above never stops.
func nextWait(b retry.Backoff) time.Duration {
	d, _ := b.Next()
	return d
}
