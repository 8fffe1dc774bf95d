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
	ready, err := s.scheduledTIs(ctx, active)
	if err != nil || len(ready) == 0 {
		return err
	}
	sl, err := s.freeSlots(ctx, ready)
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
	}
	return nil
}

func (s *Scheduler) scheduledTIs(ctx context.Context, active []store.DagRun) ([]store.TaskInstance, error) {
	running := map[runKey]bool{}
	for _, r := range active {
		if r.State == store.RunRunning {
			running[runKey{r.DagID, r.RunID}] = true
		}
	}
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIScheduled}})
	if err != nil {
		return nil, fmt.Errorf("list scheduled task instances: %w", err)
	}
	ready := tis[:0]
	for _, ti := range tis {
		if running[runKey{ti.DagID, ti.RunID}] {
			ready = append(ready, ti)
		}
	}
	sort.SliceStable(ready, func(i, j int) bool { return ready[i].PriorityWeight > ready[j].PriorityWeight })
	return ready, nil
}

func (s *Scheduler) freeSlots(ctx context.Context, ready []store.TaskInstance) (slots, error) {
	busy, err := s.store.CountTaskInstances(ctx, store.TIFilter{States: busyStates})
	if err != nil {
		return slots{}, err
	}
	sl := slots{open: s.cfg.Parallelism - busy, perDAG: map[string]int{}, perPool: map[string]int{}}
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
