package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

var busyStates = []store.TIState{store.TIQueued, store.TIRunning}

// slots is what may still be queued this pass.
type slots struct {
	open    int            // parallelism left
	perDAG  map[string]int // max_active_tasks left
	perPool map[string]int // pool slots left; absent pool = unknown
}

// queueReady queues scheduled task instances of the active runs, highest
// priority first, within parallelism, max_active_tasks and pool slots.
func (s *Scheduler) queueReady(ctx context.Context, active []store.DagRun) error {
	executable := 0
	defer func() { s.cfg.Metrics.TasksExecutable(executable) }()
	busy, err := s.store.CountTaskInstances(ctx, store.TIFilter{States: busyStates})
	if err != nil {
		return err
	}
	open := s.cfg.Parallelism - busy
	if open <= 0 {
		return nil // a finishing task wakes the loop again
	}
	ready, err := s.scheduledTIs(ctx, active, open)
	if err != nil || len(ready) == 0 {
		return err
	}
	sl, err := s.freeSlots(ctx, ready, open)
	if err != nil {
		return err
	}
	for _, ti := range ready {
		if _, known := sl.perPool[ti.Pool]; !known {
			s.warnUnknownPool(ti)
		}
		if !sl.take(ti) {
			continue
		}
		if err := s.enqueue(ctx, ti); err != nil {
			return err
		}
		executable++
	}
	return nil
}

// scheduledTIs reads, per running run, the highest-priority scheduled task
// instances. The per-run limit keeps a pass cheap when thousands wait for
// a few open slots; the surplus covers tasks blocked by pools or
// max_active_tasks so they do not starve the rest.
func (s *Scheduler) scheduledTIs(ctx context.Context, active []store.DagRun, open int) ([]store.TaskInstance, error) {
	var ready []store.TaskInstance
	for _, r := range active {
		if r.State != store.RunRunning {
			continue
		}
		tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{DagID: r.DagID, RunID: r.RunID, States: []store.TIState{store.TIScheduled}, Limit: open + 64})
		if err != nil {
			return nil, fmt.Errorf("list scheduled task instances of %s/%s: %w", r.DagID, r.RunID, err)
		}
		ready = append(ready, tis...)
	}
	sort.SliceStable(ready, func(i, j int) bool { return ready[i].PriorityWeight > ready[j].PriorityWeight })
	return ready, nil
}

func (s *Scheduler) freeSlots(ctx context.Context, ready []store.TaskInstance, open int) (slots, error) {
	sl := slots{open: open, perDAG: map[string]int{}, perPool: map[string]int{}}
	pools, err := s.store.ListPools(ctx)
	if err != nil {
		return sl, err
	}
	for _, p := range pools {
		n, err := s.store.CountTaskInstances(ctx, store.TIFilter{Pool: p.Name, States: busyStates})
		if err != nil {
			return sl, err
		}
		sl.perPool[p.Name] = p.Slots - n
	}
	for _, ti := range ready {
		if _, seen := sl.perDAG[ti.DagID]; seen {
			continue
		}
		n, err := s.store.CountTaskInstances(ctx, store.TIFilter{DagID: ti.DagID, States: busyStates})
		if err != nil {
			return sl, err
		}
		sl.perDAG[ti.DagID] = s.DAG(ti.DagID).MaxActiveTasks - n
	}
	return sl, nil
}

// take reserves slots for ti if every limit allows it.
func (sl *slots) take(ti store.TaskInstance) bool {
	pool, known := sl.perPool[ti.Pool]
	if sl.open <= 0 || sl.perDAG[ti.DagID] <= 0 || !known || pool < ti.PoolSlots {
		return false
	}
	sl.open--
	sl.perDAG[ti.DagID]--
	sl.perPool[ti.Pool] -= ti.PoolSlots
	return true
}

// enqueue moves scheduled → queued and pushes the message; if the push
// fails the task instance goes back to scheduled.
func (s *Scheduler) enqueue(ctx context.Context, ti store.TaskInstance) error {
	now := s.now()
	queued, err := s.store.UpdateTaskInstance(ctx, ti.TIKey, func(t *store.TaskInstance) error {
		if t.State != store.TIScheduled {
			return store.ErrStateConflict
		}
		t.State, t.QueuedAt, t.QueuedByJobID = store.TIQueued, now, s.jobID
		return nil
	})
	if errors.Is(err, store.ErrStateConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	m := queue.Message{TIKey: ti.TIKey, Try: queued.TryNumber + 1, Queue: queued.Queue, Priority: queued.PriorityWeight}
	if err := s.queue.Push(ctx, m); err != nil {
		return errors.Join(fmt.Errorf("queue %v: %w", ti.TIKey, err), s.transition(context.WithoutCancel(ctx), ti.TIKey, store.TIQueued, store.TIScheduled))
	}
	return nil
}

// warnUnknownPool says once per pool why its tasks stay scheduled, as
// Airflow does, instead of failing them: creating the pool releases them.
func (s *Scheduler) warnUnknownPool(ti store.TaskInstance) {
	if s.warnedPools[ti.Pool] {
		return
	}
	s.warnedPools[ti.Pool] = true
	s.log.Warn("task uses a pool that does not exist; it waits until the pool is created", "pool", ti.Pool, "dag", ti.DagID, "task", ti.TaskID)
}
