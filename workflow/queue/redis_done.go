package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
	"github.com/redis/go-redis/v9"
)

// SubscribeDone delivers the task instances whose messages any process
// acked (RedisLease.Ack: the outcome is stored) until ctx ends or the queue
// closes; then the channel closes. Delivery is best effort: pub/sub keeps
// nothing for a subscriber that is disconnected, and the scheduler's poll
// interval is the fallback. It returns an error if the first subscription
// fails; later outages are waited out.
//
// After a reconnect the channel carries a zero TIKey: events published
// while disconnected are lost, so the receiver should rescan its state
// (which its regular poll would also do, only later).
func (r *Redis) SubscribeDone(ctx context.Context) (<-chan store.TIKey, error) {
	ps := r.client.Subscribe(ctx, r.k.done)
	first, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := ps.Receive(first); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("queue: subscribe to task completions: %w", err)
	}
	out := make(chan store.TIKey, 64)
	// Stop on either the caller's ctx or Close.
	ctx, stopBoth := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(r.ctx, stopBoth)
	started := r.goBackground(func() {
		defer close(out)
		defer stopBoth()
		defer stopOnClose()
		stopPS := context.AfterFunc(ctx, func() { _ = ps.Close() })
		defer stopPS()
		r.listen(ctx, ps, func(msg any) {
			var key store.TIKey
			if m, ok := msg.(*redis.Message); ok {
				if err := json.Unmarshal([]byte(m.Payload), &key); err != nil {
					r.log.Warn("queue: undecodable task completion", "payload", m.Payload, "err", err)
					return
				}
			}
			select {
			case out <- key:
			case <-ctx.Done():
			}
		})
	})
	if !started {
		stopBoth()
		stopOnClose()
		_ = ps.Close()
		return nil, ErrClosed
	}
	return out, nil
}
