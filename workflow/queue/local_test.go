package queue

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/airctl/airctl/workflow/store"
)

func msg(task string, prio int, queue string) Message {
	return Message{TIKey: store.TIKey{DagID: "d", RunID: "r", TaskID: task}, Queue: queue, Priority: prio, Try: 1}
}

func TestLocalOrdersByPriorityThenFIFO(t *testing.T) {
	ctx := context.Background()
	q := NewLocal()
	for _, m := range []Message{msg("a", 1, "default"), msg("b", 5, "default"), msg("c", 1, "other"), msg("d", 5, "default")} {
		if err := q.Push(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 4 {
		l, err := q.Pop(ctx, []string{"default", "other"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.Message().TaskID)
	}
	want := []string{"b", "d", "a", "c"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

func TestLocalPopOnlyNamedQueues(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := NewLocal()
	_ = q.Push(ctx, msg("x", 1, "gpu"))
	cancel()
	if _, err := q.Pop(ctx, []string{"default"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pop on empty queue = %v, want context.Canceled", err)
	}
	if q.Len("gpu") != 1 {
		t.Fatalf("gpu queue lost its message")
	}
}

func TestLocalBlockingPopWakesOnPushAndClose(t *testing.T) {
	ctx := context.Background()
	q := NewLocal()
	var wg sync.WaitGroup
	results := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := q.Pop(ctx, []string{"default"})
			if err == nil {
				err = l.Ack(ctx)
			}
			results <- err
		}()
	}
	if err := q.Push(ctx, msg("a", 1, "default")); err != nil {
		t.Fatal(err)
	}
	if err := <-results; err != nil {
		t.Fatalf("first Pop: %v", err)
	}
	_ = q.Close()
	wg.Wait()
	if err := <-results; !errors.Is(err, ErrClosed) {
		t.Fatalf("second Pop after Close = %v, want ErrClosed", err)
	}
}

func TestLocalRequeue(t *testing.T) {
	ctx := context.Background()
	q := NewLocal()
	_ = q.Push(ctx, msg("a", 1, "default"))
	l, _ := q.Pop(ctx, []string{"default"})
	if err := l.Requeue(ctx); err != nil {
		t.Fatal(err)
	}
	l2, err := q.Pop(ctx, []string{"default"})
	if err != nil || l2.Message().TaskID != "a" {
		t.Fatalf("requeued message not delivered again: %v %v", l2, err)
	}
}
