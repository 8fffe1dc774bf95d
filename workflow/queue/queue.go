// Package queue carries task instances from the scheduler to workers. The
// local implementation lives in-process (standalone); the Redis one crosses
// machines. Both give each message to one worker at a time; a lease that is
// neither acked nor requeued is the implementation's to recover.
package queue

import (
	"context"
	"errors"

	"github.com/airctl/airctl/workflow/store"
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("queue closed")

// ErrLeaseLost is returned by a lease operation when the lease expired and
// the message now belongs to another consumer: this holder's run is a
// duplicate that the task state machine will reject.
var ErrLeaseLost = errors.New("queue: lease lost to another consumer")

// Message asks a worker to run one try of a task instance.
type Message struct {
	store.TIKey
	Try      int    // the try number the worker will start
	Queue    string // named queue, e.g. "default"
	Priority int    // higher runs first
	// RunRowID is the run's row id (store.DagRun.ID), which tells a run
	// from a later one with the same run_id, so a worker may reuse the run
	// it read for an earlier task; zero: unknown.
	RunRowID int64 `json:",omitempty"`
}

// Queue is safe for concurrent use.
type Queue interface {
	Push(ctx context.Context, m Message) error
	// Pop blocks until a message on one of queues is available, ctx ends
	// (ctx.Err()) or the queue closes (ErrClosed).
	Pop(ctx context.Context, queues []string) (Lease, error)
	Close() error
}

// Lease is a popped message owned by one worker until Ack or Requeue.
type Lease interface {
	Message() Message
	// Ack confirms the task's outcome is stored; the message is gone.
	Ack(ctx context.Context) error
	// Requeue hands the message back for another worker.
	Requeue(ctx context.Context) error
}

// Extender is implemented by leases that expire unless renewed (Redis). A
// worker renews while the task runs (see KeepAlive); leases without it
// (Local) never expire. Extend returns ErrLeaseLost once another consumer
// owns the message.
type Extender interface {
	Extend(ctx context.Context) error
}

// Holder is implemented by brokers that can tell whether they still hold
// the message for a try (Redis), so a scheduler can push again the ones
// the broker lost. The local queue lives and dies with its scheduler,
// which recovers its tasks at start instead.
type Holder interface {
	// Holds reports, for each message, whether the broker has one for the
	// same try of the same task instance, waiting or leased.
	Holds(ctx context.Context, ms []Message) ([]bool, error)
}
