package queue

import (
	"container/heap"
	"context"
	"sync"
)

// Local is an in-process priority queue. It holds nothing across restarts:
// the scheduler re-queues orphaned task instances on start.
type Local struct {
	mu     sync.Mutex
	queues map[string]*msgHeap
	seq    uint64
	wake   chan struct{} // closed and replaced on every push
	closed bool
}

// NewLocal returns an empty local queue.
func NewLocal() *Local {
	return &Local{queues: map[string]*msgHeap{}, wake: make(chan struct{})}
}

// Push adds m to its named queue.
func (q *Local) Push(_ context.Context, m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	h := q.queues[m.Queue]
	if h == nil {
		h = &msgHeap{}
		q.queues[m.Queue] = h
	}
	q.seq++
	heap.Push(h, item{Message: m, seq: q.seq})
	close(q.wake)
	q.wake = make(chan struct{})
	return nil
}

// Pop returns the highest-priority, oldest message across queues.
func (q *Local) Pop(ctx context.Context, queues []string) (Lease, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrClosed
		}
		if m, ok := q.popLocked(queues); ok {
			q.mu.Unlock()
			return &localLease{q: q, m: m}, nil
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		}
	}
}

func (q *Local) popLocked(queues []string) (Message, bool) {
	var best *msgHeap
	for _, name := range queues {
		h := q.queues[name]
		if h == nil || h.Len() == 0 {
			continue
		}
		if best == nil || h.less((*h)[0], (*best)[0]) {
			best = h
		}
	}
	if best == nil {
		return Message{}, false
	}
	return heap.Pop(best).(item).Message, true
}

// Len counts waiting messages in the named queue.
func (q *Local) Len(name string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if h := q.queues[name]; h != nil {
		return h.Len()
	}
	return 0
}

// Close wakes every waiting Pop with ErrClosed.
func (q *Local) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.wake)
	}
	return nil
}

type localLease struct {
	q *Local
	m Message
}

func (l *localLease) Message() Message { return l.m }

func (l *localLease) Ack(context.Context) error { return nil }

func (l *localLease) Requeue(ctx context.Context) error { return l.q.Push(ctx, l.m) }

type item struct {
	Message
	seq uint64
}

// msgHeap orders by priority (high first), then arrival (FIFO).
type msgHeap []item

func (h msgHeap) less(a, b item) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.seq < b.seq
}

func (h msgHeap) Len() int           { return len(h) }
func (h msgHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h msgHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *msgHeap) Push(x any)        { *h = append(*h, x.(item)) }
func (h *msgHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
