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

// busy sums the queued and running task instances: in all, per DAG, and
// the pool slots they hold per pool (a task may take several).
type busy struct {
	total     int
	perDAG    map[string]int
	poolSlots map[string]int
}

func sumBusy(counts []store.BusyCount) busy {
	b := busy{perDAG: map[string]int{}, poolSlots: map[string]int{}}
	for _, c := range counts {
		b.total += c.Count
		b.perDAG[c.DagID] += c.Count
		b.poolSlots[c.Pool] += c.PoolSlots
	}
	return b
}

// queueReady queues scheduled task instances of the active runs, highest
// priority first, within parallelism, max_active_tasks and pool slots.
// Counting the free slots and claiming is one critical section across
// schedulers, so two of them never fill the same slots; the pushes to the
// broker happen after it.
func (s *Scheduler) queueReady(ctx context.Context, active []store.DagRun) error {
	var claimed []store.TaskInstance
	err := s.store.Critical(ctx, func(ctx context.Context) error {
		var err error
		claimed, err = s.claimReady(ctx, active)
		return err
	})
	s.cfg.Metrics.TasksExecutable(len(claimed))
	if err != nil {
		return err
	}
	return s.push(ctx, claimed, runRowIDs(active))
}

// runRowIDs maps each run to its row id, for the messages.
func runRowIDs(runs []store.DagRun) map[runKey]int64 {
	ids := make(map[runKey]int64, len(runs))
	for _, r := range runs {
		ids[runKey{r.DagID, r.RunID}] = r.ID
	}
	return ids
}

// claimReady claims what the free slots allow.
func (s *Scheduler) claimReady(ctx context.Context, active []store.DagRun) ([]store.TaskInstance, error) {
	counts, err := s.store.CountBusy(ctx)
	if err != nil {
		return nil, err
	}
	b := sumBusy(counts)
	open := s.cfg.Parallelism - b.total
	if open <= 0 {
		return nil, nil // a finishing task wakes the loop again
	}
	ready, err := s.scheduledTIs(ctx, active, open)
	if err != nil || len(ready) == 0 {
		return nil, err
	}
	sl, err := s.freeSlots(ctx, ready, open, b)
	if err != nil {
		return nil, err
	}
	var picked []store.TIKey
	for _, ti := range ready {
		if _, known := sl.perPool[ti.Pool]; !known {
			s.warnUnknownPool(ti)
		}
		if sl.take(ti) {
			picked = append(picked, ti.TIKey)
		}
	}
	return s.store.ClaimTaskInstances(ctx, picked, s.jobID, s.now())
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

func (s *Scheduler) freeSlots(ctx context.Context, ready []store.TaskInstance, open int, b busy) (slots, error) {
	sl := slots{open: open, perDAG: map[string]int{}, perPool: map[string]int{}}
	pools, err := s.store.ListPools(ctx)
	if err != nil {
		return sl, err
	}
	for _, p := range pools {
		sl.perPool[p.Name] = p.Slots - b.poolSlots[p.Name]
	}
	for _, ti := range ready {
		sl.perDAG[ti.DagID] = s.DAG(ti.DagID).MaxActiveTasks - b.perDAG[ti.DagID]
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

// push sends the claimed (now queued) task instances to the broker. If a
// push fails, that one and the rest go back to scheduled for a later pass.
func (s *Scheduler) push(ctx context.Context, claimed []store.TaskInstance, runIDs map[runKey]int64) error {
	for i, ti := range claimed {
		m := message(ti)
		m.RunRowID = runIDs[runKey{ti.DagID, ti.RunID}]
		if err := s.queue.Push(ctx, m); err != nil {
			errs := []error{fmt.Errorf("queue %v: %w", ti.TIKey, err)}
			for _, back := range claimed[i:] {
				errs = append(errs, s.transition(context.WithoutCancel(ctx), back.TIKey, store.TIQueued, store.TIScheduled))
			}
			return errors.Join(errs...)
		}
	}
	return nil
}

// message asks for the next try of a queued task instance.
func message(ti store.TaskInstance) queue.Message {
	return queue.Message{TIKey: ti.TIKey, Try: ti.TryNumber + 1, Queue: ti.Queue, Priority: ti.PriorityWeight}
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
