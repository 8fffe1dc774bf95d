package queue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// RedisLease is a message held by one consumer until Ack, Requeue or the
// lease's expiry. Its token (the delivery count) tells this holder apart
// from a later one after a redelivery.
type RedisLease struct {
	r          *Redis
	m          Message
	id         string
	token      string
	deliveries int
}

var _ Extender = (*RedisLease)(nil)

// Message returns the leased message.
func (l *RedisLease) Message() Message { return l.m }

// ID is the message's id in Redis, stable across redeliveries.
func (l *RedisLease) ID() string { return l.id }

// Deliveries counts the times this message was popped, this one included:
// more than 1 means an earlier holder died or handed it back.
func (l *RedisLease) Deliveries() int { return l.deliveries }

// Ack deletes the message and, in the same step, tells subscribed
// schedulers (SubscribeDone) that its task instance finished, so they queue
// the downstream at once. Call it only after the task's outcome is stored:
// until then a crash must leave the message to be redelivered. It returns
// ErrLeaseLost if the lease expired and another consumer holds the message.
func (l *RedisLease) Ack(ctx context.Context) error {
	key, err := json.Marshal(l.m.TIKey)
	if err != nil {
		return fmt.Errorf("queue: encode %v: %w", l.m.TIKey, err)
	}
	return l.runKeys(ctx, "ack", ackScript, []string{l.r.k.leases, l.r.k.tis}, l.r.k.queuePrefix, l.r.k.done, key)
}

// Requeue hands the message back at once, at its original place in its
// queue, and wakes waiting consumers.
func (l *RedisLease) Requeue(ctx context.Context) error {
	return l.run(ctx, "requeue", requeueScript, l.r.k.queuePrefix, l.r.k.wake)
}

// Extend renews the lease for the queue's lease duration from now. Call it
// well within that duration (KeepAlive does); a failure other than
// ErrLeaseLost (broker down) is worth retrying while the lease may live.
func (l *RedisLease) Extend(ctx context.Context) error {
	return l.run(ctx, "extend", extendScript, l.r.opts.Lease.Milliseconds())
}

func (l *RedisLease) run(ctx context.Context, op string, s *redis.Script, extra ...any) error {
	return l.runKeys(ctx, op, s, []string{l.r.k.leases}, extra...)
}

func (l *RedisLease) runKeys(ctx context.Context, op string, s *redis.Script, keys []string, extra ...any) error {
	args := append([]any{l.r.k.msgPrefix + l.id, l.id, l.token}, extra...)
	ok, err := s.Run(ctx, l.r.client, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("queue: %s %s (%v): %w", op, l.id, l.m.TIKey, err)
	}
	if ok == 0 {
		return fmt.Errorf("queue: %s %s (%v): %w", op, l.id, l.m.TIKey, ErrLeaseLost)
	}
	return nil
}
