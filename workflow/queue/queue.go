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

// Message asks a worker to run one try of a task instance.
type Message struct {
	store.TIKey
	Try      int    // the try number the worker will start
	Queue    string // named queue, e.g. "default"
	Priority int    // higher runs first
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
