package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

// Pool runs Concurrency tasks at a time from the named queues.
type Pool struct {
	Queue       queue.Queue
	Runner      *Runner
	Queues      []string
	Concurrency int
	// ShutdownGrace is how long running tasks may finish after ctx ends
	// before they are stopped and handed back.
	ShutdownGrace time.Duration
	// OnDone is told of every task instance this pool finished or handed back.
	OnDone func(store.TaskInstance)
	// LeaseRenewal is how often a running task's lease is extended; zero
	// for brokers without leases (the local queue).
	LeaseRenewal time.Duration
}

// Run works until ctx ends, then drains: no new tasks, running ones get
// ShutdownGrace to finish.
func (p *Pool) Run(ctx context.Context) error {
	taskCtx, stopTasks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTasks()
	go func() {
		<-ctx.Done()
		t := time.NewTimer(p.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			stopTasks()
		case <-taskCtx.Done():
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, p.Concurrency)
	for range p.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.loop(ctx, taskCtx)
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (p *Pool) loop(ctx, taskCtx context.Context) error {
	for {
		lease, err := p.Queue.Pop(ctx, p.Queues)
		if errors.Is(err, queue.ErrClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.runOne(taskCtx, lease); err != nil {
			p.Runner.Log.Error("task failed to run", "task", lease.Message().TIKey, "err", err)
		}
	}
}

func (p *Pool) runOne(ctx context.Context, lease queue.Lease) error {
	m := lease.Message()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if p.LeaseRenewal > 0 {
		go p.keepAlive(runCtx, stop, lease)
	}
	ti, ran, err := p.Runner.Run(runCtx, m, redelivered(lease))
	if err != nil {
		return errors.Join(err, lease.Requeue(context.WithoutCancel(ctx)))
	}
	if err := lease.Ack(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, queue.ErrLeaseLost) {
		return err
	}
	if ran && p.OnDone != nil {
		p.OnDone(ti)
	}
	return nil
}

// keepAlive extends the lease while the task runs; if another worker has
// taken the message over, this run is stopped: its result would not count.
func (p *Pool) keepAlive(ctx context.Context, stop context.CancelFunc, lease queue.Lease) {
	if errors.Is(queue.KeepAlive(ctx, lease, p.LeaseRenewal), queue.ErrLeaseLost) {
		p.Runner.Log.Warn("lease lost; stopping the task, another worker owns it now", "task", lease.Message().TIKey)
		stop()
	}
}

// redelivered reports whether the broker delivered this message before.
func redelivered(l queue.Lease) bool {
	d, ok := l.(interface{ Deliveries() int })
	return ok && d.Deliveries() > 1
}
