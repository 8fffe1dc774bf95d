package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// brokenBroker refuses every push while down, like Redis in an outage.
type brokenBroker struct {
	*queue.Local
	down    atomic.Bool
	refused atomic.Int32
}

func (b *brokenBroker) Push(ctx context.Context, m queue.Message) error {
	if b.down.Load() {
		b.refused.Add(1)
		return errors.New("broker down")
	}
	return b.Local.Push(ctx, m)
}

// TestFailedPushHandsTheClaimedBatchBack: the scheduler claims a batch of
// task instances (scheduled → queued) before pushing them; when the broker
// refuses a push, every claimed one goes back to scheduled, none stays
// queued without a message, and all run once the broker is back.
func TestFailedPushHandsTheClaimedBatchBack(t *testing.T) {
	e := newEnv(t, map[string]string{"fan.hcl": `
dag "fan" {
  task "a" { command = "true" }
  task "b" { command = "true" }
  task "c" { command = "true" }
  task "d" { command = "true" }
}`})
	ctx := context.Background()
	q := &brokenBroker{Local: queue.NewLocal()}
	q.down.Store(true)
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, err := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.Trigger(ctx, e.st, bag.DAGs["fan"], time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(runCtx) })
	eventually(t, "pushes to be refused twice", func() bool { return q.refused.Load() >= 2 })
	stop()
	wg.Wait()
	for id, ti := range e.tis("fan", run.RunID) {
		if ti.State != store.TIScheduled || ti.TryNumber != 0 {
			t.Errorf("%s after refused pushes: %s try %d, want scheduled, not started", id, ti.State, ti.TryNumber)
		}
	}

	q.down.Store(false)
	s = scheduler.New(e.cfg, e.st, q, e.logger())
	if _, err := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s); err != nil {
		t.Fatal(err)
	}
	e.runOnly(s, q.Local, []store.DagRun{run})
	for id, ti := range e.tis("fan", run.RunID) {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s try %d, want success on try 1", id, ti.State, ti.TryNumber)
		}
	}
}
