package queue

import (
	"context"
	"reflect"
	"testing"

	"github.com/airctl/airctl/internal/testenv"
)

func mustHold(t *testing.T, q *Redis, ms []Message, want ...bool) {
	t.Helper()
	got, err := q.Holds(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Holds = %v, want %v", got, want)
	}
}

// A second push of the same try adds nothing while the first message is
// waiting or leased; once acked, the try is gone and a push (of a later
// try, or a lost one) is stored again. Holds sees all of it, and sees a
// message lost with Redis's data as gone.
func TestRedisPushIsIdempotentPerTryAndHoldsTracksIt(t *testing.T) {
	srv := testenv.Redis(t)
	q := newRedisQueue(t, srv, RedisOptions{})
	a1, b1 := msg("a", 1, "default"), msg("b", 1, "default")
	a2 := a1
	a2.Try = 2
	ms := []Message{a1, a2, b1}
	mustHold(t, q, ms, false, false, false)

	mustPush(t, q, a1, a1, b1)
	mustHold(t, q, ms, true, false, true)
	if n, err := q.Len(context.Background(), "default"); err != nil || n != 2 {
		t.Fatalf("queue length %d (%v) after pushing a twice and b once, want 2", n, err)
	}
	l := mustPop(t, q, "default")
	if l.Message() != a1 {
		t.Fatalf("popped %+v, want %+v", l.Message(), a1)
	}
	mustPush(t, q, a1) // leased: still a no-op
	mustHold(t, q, ms, true, false, true)
	if n, _ := q.Len(context.Background(), "default"); n != 1 {
		t.Fatalf("queue length %d after pushing a leased try again, want 1", n)
	}
	if err := l.Ack(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustHold(t, q, ms, false, false, true)
	mustPush(t, q, a2)
	mustHold(t, q, ms, false, true, true)

	if err := newClient(t, srv).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	mustHold(t, q, ms, false, false, false)
	mustPush(t, q, b1)
	mustHold(t, q, ms, false, false, true)
	if got := mustPop(t, q, "default").Message(); got != b1 {
		t.Fatalf("after the flush popped %+v, want the pushed-again %+v", got, b1)
	}
}
