package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
)

// A consumer that pops and dies without acking (SIGKILL) loses the message
// to another consumer once its lease expires, and not before.
func TestRedisRedeliversAfterLeaseExpiry(t *testing.T) {
	srv := testenv.Redis(t)
	const lease = 300 * time.Millisecond
	victim := NewRedis(newClient(t, srv), RedisOptions{Lease: lease})
	survivor := newRedisQueue(t, srv, RedisOptions{Lease: lease})
	mustPush(t, survivor, msg("a", 1, "default"))

	before := time.Now()
	mustPop(t, victim, "default")
	_ = victim.Close() // dies holding the lease: no Ack, no Requeue

	l, err := survivor.Pop(deadline(t, 10*time.Second), []string{"default"})
	if err != nil {
		t.Fatalf("message was not redelivered: %v", err)
	}
	if waited := time.Since(before); waited < lease-10*time.Millisecond {
		t.Fatalf("redelivered after %v, before the %v lease expired", waited, lease)
	}
	if l.Message().TaskID != "a" || l.(*RedisLease).Deliveries() != 2 {
		t.Fatalf("redelivered %s as delivery %d, want a as delivery 2", l.Message().TaskID, l.(*RedisLease).Deliveries())
	}
	if err := l.Ack(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, survivor, "default")
}

// KeepAlive holds a lease for several lease periods; once it stops, the
// message moves on and the old holder finds its lease lost.
func TestRedisExtendKeepsLeaseAlive(t *testing.T) {
	srv := testenv.Redis(t)
	const lease = 300 * time.Millisecond
	a := newRedisQueue(t, srv, RedisOptions{Lease: lease})
	b := newRedisQueue(t, srv, RedisOptions{Lease: lease})
	mustPush(t, a, msg("a", 1, "default"))
	la := mustPop(t, a, "default")

	kctx, stopKeepAlive := context.WithCancel(context.Background())
	kept := make(chan error, 1)
	go func() { kept <- KeepAlive(kctx, la, lease/3) }()
	// Four lease periods in which b must get nothing.
	if l, err := b.Pop(deadline(t, 4*lease), []string{"default"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pop while the lease is extended = %v, %v; want DeadlineExceeded", l, err)
	}
	stopKeepAlive()
	if err := <-kept; err != nil {
		t.Fatalf("KeepAlive = %v", err)
	}

	lb := mustPop(t, b, "default")
	if lb.Message().TaskID != "a" {
		t.Fatalf("got %v", lb.Message())
	}
	ctx := context.Background()
	for op, fn := range map[string]func(context.Context) error{"Extend": la.(*RedisLease).Extend, "Ack": la.Ack, "Requeue": la.Requeue} {
		if err := fn(ctx); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s by the expired holder = %v, want ErrLeaseLost", op, err)
		}
	}
	if err := KeepAlive(ctx, la, time.Millisecond); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("KeepAlive on a lost lease = %v, want ErrLeaseLost", err)
	}
	if err := lb.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, a, "default")
}

// Acks are idempotent, and a holder whose lease expired may still ack a
// message nobody else took (its outcome is stored).
func TestRedisAckIsIdempotent(t *testing.T) {
	q := newRedisQueue(t, testenv.Redis(t), RedisOptions{})
	mustPush(t, q, msg("a", 1, "default"))
	l := mustPop(t, q, "default")
	ctx := context.Background()
	for range 2 {
		if err := l.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Requeue(ctx); err != nil {
		t.Fatalf("Requeue of an acked message = %v, want nil", err)
	}
	assertEmpty(t, q, "default")
}

func TestKeepAliveWithoutExtenderWaitsForContext(t *testing.T) {
	q := NewLocal()
	mustPush(t, q, msg("a", 1, "default"))
	l := mustPop(t, q, "default")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := KeepAlive(ctx, l, time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
