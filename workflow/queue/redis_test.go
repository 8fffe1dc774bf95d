package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
	"github.com/redis/go-redis/v9"
)

func newClient(t testing.TB, srv *testenv.RedisServer) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password, MaxRetries: 2, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newRedisQueue is one consumer or producer process: its own client.
func newRedisQueue(t testing.TB, srv *testenv.RedisServer, opts RedisOptions) *Redis {
	q := NewRedis(newClient(t, srv), opts)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func deadline(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond, an observable state, until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustPush(t testing.TB, q Queue, ms ...Message) {
	t.Helper()
	for _, m := range ms {
		if err := q.Push(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func mustPop(t testing.TB, q Queue, queues ...string) Lease {
	t.Helper()
	l, err := q.Pop(deadline(t, 10*time.Second), queues)
	if err != nil {
		t.Fatalf("Pop(%v): %v", queues, err)
	}
	return l
}

func TestRedisOrdersByPriorityThenFIFOAcrossQueues(t *testing.T) {
	q := newRedisQueue(t, testenv.Redis(t), RedisOptions{})
	mustPush(t, q, msg("a", 1, "default"), msg("b", 5, "default"), msg("c", 1, "other"),
		msg("d", 5, "default"), msg("e", 9, "gpu"), msg("f", -2, "other"), msg("g", 5, "other"))
	var got []string
	for range 6 {
		l := mustPop(t, q, "default", "other")
		got = append(got, l.Message().TaskID)
		if err := l.Ack(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if want := "b d g a c f"; strings.Join(got, " ") != want {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if n, err := q.Len(context.Background(), "gpu"); err != nil || n != 1 {
		t.Fatalf("gpu queue = %d, %v; want its message untouched", n, err)
	}
}

func TestRedisRoundTripsMessage(t *testing.T) {
	q := newRedisQueue(t, testenv.Redis(t), RedisOptions{})
	want := Message{TIKey: store.TIKey{DagID: "etl", RunID: "manual__2024", TaskID: "load:1"}, Try: 3, Queue: "default", Priority: 7}
	mustPush(t, q, want)
	l := mustPop(t, q, "default")
	if got := l.Message(); got != want {
		t.Fatalf("popped %+v, want %+v", got, want)
	}
	if rl := l.(*RedisLease); rl.Deliveries() != 1 || rl.ID() == "" {
		t.Fatalf("first delivery: deliveries=%d id=%q", rl.Deliveries(), rl.ID())
	}
}

// Four consumers (separate clients, like separate workers) share 100
// messages: each is delivered exactly once and never to two at a time.
func TestRedisConcurrentConsumersGetEachMessageOnce(t *testing.T) {
	srv := testenv.Redis(t)
	producer := newRedisQueue(t, srv, RedisOptions{})
	const total = 100
	for i := range total {
		mustPush(t, producer, msg(fmt.Sprint(i), i%3, "default"))
	}
	var (
		mu         sync.Mutex
		inFlight   = map[string]bool{}
		deliveries = map[string]int{}
		acked      int
		errs       []error
	)
	ctx, stop := context.WithCancel(deadline(t, 30*time.Second))
	defer stop()
	var wg sync.WaitGroup
	for range 4 {
		c := newRedisQueue(t, srv, RedisOptions{})
		wg.Go(func() {
			for {
				l, err := c.Pop(ctx, []string{"default"})
				if err != nil {
					return
				}
				id := l.Message().TaskID
				mu.Lock()
				if inFlight[id] {
					errs = append(errs, fmt.Errorf("task %s delivered to two consumers at once", id))
				}
				inFlight[id] = true
				deliveries[id]++
				mu.Unlock()
				err = l.Ack(ctx)
				mu.Lock()
				delete(inFlight, id)
				if err != nil {
					errs = append(errs, err)
				}
				acked++
				if acked == total {
					stop()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != total {
		t.Fatalf("%d distinct messages delivered, want %d", len(deliveries), total)
	}
	for id, n := range deliveries {
		if n != 1 {
			t.Errorf("task %s delivered %d times", id, n)
		}
	}
	assertEmpty(t, producer, "default")
}

func assertEmpty(t *testing.T, q *Redis, name string) {
	t.Helper()
	ctx := context.Background()
	if n, err := q.Len(ctx, name); err != nil || n != 0 {
		t.Errorf("queue %q still has %d waiting (%v)", name, n, err)
	}
	if n, err := q.Leased(ctx); err != nil || n != 0 {
		t.Errorf("%d leases still held (%v)", n, err)
	}
}

func TestRedisRequeueHandsBackAtOnce(t *testing.T) {
	srv := testenv.Redis(t)
	a := newRedisQueue(t, srv, RedisOptions{Lease: time.Hour})
	b := newRedisQueue(t, srv, RedisOptions{Lease: time.Hour})
	mustPush(t, a, msg("x", 1, "default"), msg("y", 1, "default"))
	la := mustPop(t, a, "default")
	if err := la.Requeue(context.Background()); err != nil {
		t.Fatal(err)
	}
	// x keeps its place ahead of y, and comes back long before the lease.
	lb, err := b.Pop(deadline(t, 2*time.Second), []string{"default"})
	if err != nil {
		t.Fatal(err)
	}
	if lb.Message().TaskID != "x" || lb.(*RedisLease).Deliveries() != 2 {
		t.Fatalf("after requeue got %s (delivery %d), want x again", lb.Message().TaskID, lb.(*RedisLease).Deliveries())
	}
	// The first holder no longer owns it.
	if err := la.Ack(context.Background()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Ack by the previous holder = %v, want ErrLeaseLost", err)
	}
}

// A Pop waiting with no timer due is woken by a push from another process
// (pub/sub), not by polling: its poll interval here is an hour.
func TestRedisBlockingPopWakesOnPush(t *testing.T) {
	srv := testenv.Redis(t)
	consumer := newRedisQueue(t, srv, RedisOptions{Lease: time.Hour, PollInterval: time.Hour})
	producer := newRedisQueue(t, srv, RedisOptions{})
	got := make(chan Lease, 1)
	go func() {
		l, err := consumer.Pop(deadline(t, 10*time.Second), []string{"default"})
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	waitFor(t, 5*time.Second, "Pop to block", func() bool { return consumer.waiting.Load() == 1 })
	mustPush(t, producer, msg("a", 1, "default"))
	select {
	case l := <-got:
		if l == nil || l.Message().TaskID != "a" {
			t.Fatalf("woken Pop got %v", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pop was not woken by the push")
	}
}

func TestRedisPopHonoursContextAndClose(t *testing.T) {
	q := newRedisQueue(t, testenv.Redis(t), RedisOptions{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, err := q.Pop(ctx, []string{"default"}); errc <- err }()
	waitFor(t, 5*time.Second, "Pop to block", func() bool { return q.waiting.Load() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Pop after cancel = %v, want context.Canceled", err)
	}
	go func() { _, err := q.Pop(context.Background(), []string{"default"}); errc <- err }()
	waitFor(t, 5*time.Second, "Pop to block", func() bool { return q.waiting.Load() == 1 })
	_ = q.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop after Close = %v, want ErrClosed", err)
	}
	if err := q.Push(context.Background(), msg("a", 1, "default")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close = %v, want ErrClosed", err)
	}
}

// Acking a message tells subscribed schedulers its task instance finished.
func TestRedisSubscribeDoneDelivers(t *testing.T) {
	srv := testenv.Redis(t)
	scheduler := newRedisQueue(t, srv, RedisOptions{})
	worker := newRedisQueue(t, srv, RedisOptions{})
	ctx, cancel := context.WithCancel(deadline(t, 10*time.Second))
	done, err := scheduler.SubscribeDone(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.TIKey{DagID: "d", RunID: "r", TaskID: "t"}
	ackOne(ctx, t, worker, want)
	if got := <-done; got != want {
		t.Fatalf("SubscribeDone delivered %v, want %v", got, want)
	}
	cancel()
	for range done { // closes once ctx ends
	}
}

// ackOne runs one message for k through q (push, pop, ack), as a worker
// finishing k does.
func ackOne(ctx context.Context, t *testing.T, q *Redis, k store.TIKey) {
	t.Helper()
	if err := q.Push(ctx, Message{TIKey: k, Try: 1, Queue: "default"}); err != nil {
		t.Fatal(err)
	}
	l, err := q.Pop(ctx, []string{"default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ack(ctx); err != nil {
		t.Fatal(err)
	}
}

// logSink hands log records to a test so it can wait for one.
type logSink chan slog.Record

func (s logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s logSink) Handle(_ context.Context, r slog.Record) error {
	select {
	case s <- r:
	default:
	}
	return nil
}
func (s logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s logSink) WithGroup(string) slog.Handler      { return s }

func (s logSink) waitFor(t *testing.T, substr string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-s:
			if strings.Contains(r.Message, substr) {
				return
			}
		case <-timeout:
			t.Fatalf("no log record containing %q", substr)
		}
	}
}
