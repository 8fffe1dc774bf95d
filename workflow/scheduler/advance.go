package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// advanceRuns starts queued runs within max_active_runs and moves the task
// instances of running runs forward. It returns the earliest retry time.
func (s *Scheduler) advanceRuns(ctx context.Context, active []store.DagRun) (time.Time, error) {
	running := map[string]int{}
	for _, r := range active {
		if r.State == store.RunRunning {
			running[r.DagID]++
		}
	}
	var next time.Time
	var errs []error
	for i, r := range active {
		d := s.DAG(r.DagID)
		if r.State == store.RunQueued {
			if running[r.DagID] >= d.MaxActiveRuns {
				continue
			}
			started, err := s.startRun(ctx, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			running[r.DagID]++
			active[i] = started
			r = started
		}
		retryAt, err := s.advanceRun(ctx, d, r)
		errs = append(errs, err)
		next = earliest(next, retryAt)
	}
	return next, errors.Join(errs...)
}

func (s *Scheduler) startRun(ctx context.Context, r store.DagRun) (store.DagRun, error) {
	now := s.now()
	return s.store.UpdateDagRun(ctx, r.DagID, r.RunID, func(run *store.DagRun) error {
		if run.State != store.RunQueued {
			return store.ErrStateConflict
		}
		run.State, run.StartDate = store.RunRunning, now
		return nil
	})
}

// advanceRun applies trigger rules and retry delays to one run's task
// instances in topological order, so a failure propagates down a chain in
// one pass, and finishes the run once every task has.
func (s *Scheduler) advanceRun(ctx context.Context, d *dag.DAG, r store.DagRun) (time.Time, error) {
	// Cheap checks first: a run whose tasks are all queued or running (a
	// wide fan-out at full parallelism) needs no full read on every wake.
	pending, err := s.store.CountTaskInstances(ctx, store.TIFilter{DagID: r.DagID, RunID: r.RunID, States: []store.TIState{store.TINone, store.TIUpForRetry, store.TIUpForReschedule}})
	if err != nil {
		return time.Time{}, err
	}
	if pending == 0 {
		busy, err := s.store.CountTaskInstances(ctx, store.TIFilter{DagID: r.DagID, RunID: r.RunID, States: []store.TIState{store.TIScheduled, store.TIQueued, store.TIRunning}})
		if err != nil || busy > 0 {
			return time.Time{}, err
		}
	}
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{DagID: r.DagID, RunID: r.RunID})
	if err != nil {
		return time.Time{}, fmt.Errorf("list task instances of %s/%s: %w", r.DagID, r.RunID, err)
	}
	byID := make(map[string]store.TaskInstance, len(tis))
	states := make(map[string]store.TIState, len(tis))
	for _, ti := range tis {
		byID[ti.TaskID], states[ti.TaskID] = ti, ti.State
	}
	var next time.Time
	finished := 0
	var moves moves
	for _, t := range d.TopoOrder() {
		ti, ok := byID[t.ID]
		if !ok {
			finished++ // added to the DAG after this run was created
			continue
		}
		to, retryAt := s.nextState(t, ti, states)
		next = earliest(next, retryAt)
		if to != ti.State {
			moves.add(ti.State, to, t.ID)
			states[t.ID] = to
		}
		if states[t.ID].Finished() {
			finished++
		}
	}
	if err := s.applyMoves(ctx, r, moves); err != nil {
		return next, err
	}
	if finished == len(d.Tasks) {
		return next, s.finishRun(ctx, d, r, states)
	}
	return next, nil
}

// nextState is where a task instance should move now, and when to look
// again if it waits for a retry delay.
func (s *Scheduler) nextState(t *dag.Task, ti store.TaskInstance, states map[string]store.TIState) (store.TIState, time.Time) {
	switch ti.State {
	case store.TINone:
		return decide(t.TriggerRule, countUpstream(t.Upstream, states)), time.Time{}
	case store.TIUpForRetry, store.TIUpForReschedule: // a sensor's next poke is due like a retry
		if !ti.NextRetryAt.After(s.now()) {
			return store.TIScheduled, time.Time{}
		}
		return ti.State, ti.NextRetryAt
	}
	return ti.State, time.Time{}
}

// moves are a pass's transitions of one run, grouped by from and to state,
// in the order first seen.
type moves struct {
	order []move
	tasks map[move][]string
}

type move struct{ from, to store.TIState }

func (m *moves) add(from, to store.TIState, taskID string) {
	k := move{from, to}
	if m.tasks == nil {
		m.tasks = map[move][]string{}
	}
	if _, seen := m.tasks[k]; !seen {
		m.order = append(m.order, k)
	}
	m.tasks[k] = append(m.tasks[k], taskID)
}

// applyMoves writes a pass's transitions, one statement per kind: a
// 1,000-task fan-out becomes scheduled in one write, not a thousand. Each
// row moves only if still in its from state: another scheduler or a worker
// that got there first wins, as with transition. The decisions were made
// in topological order on the states this pass expects, so a failure
// still propagates down a chain in one pass.
func (s *Scheduler) applyMoves(ctx context.Context, r store.DagRun, m moves) error {
	now := s.now()
	for _, k := range m.order {
		moved, err := s.store.MoveTaskInstances(ctx, r.DagID, r.RunID, m.tasks[k], k.from, k.to, now)
		if err != nil {
			return err
		}
		if k.to.Finished() {
			for _, id := range moved {
				s.cfg.Metrics.TaskFinished(r.DagID, id, string(k.to))
			}
		}
	}
	return nil
}

// transition is a compare-and-set: another scheduler or a worker that got
// there first wins and this pass leaves the row alone.
func (s *Scheduler) transition(ctx context.Context, k store.TIKey, from, to store.TIState) error {
	now := s.now()
	_, err := s.store.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
		if ti.State != from {
			return store.ErrStateConflict
		}
		ti.State = to
		if to.Finished() {
			ti.EndDate = now
		}
		return nil
	})
	if errors.Is(err, store.ErrStateConflict) {
		return nil
	}
	if err == nil && to.Finished() {
		s.cfg.Metrics.TaskFinished(k.DagID, k.TaskID, string(to))
	}
	return err
}

func (s *Scheduler) finishRun(ctx context.Context, d *dag.DAG, r store.DagRun, states map[string]store.TIState) error {
	outcome, now := runOutcome(d, states), s.now()
	finished, err := s.store.UpdateDagRun(ctx, r.DagID, r.RunID, func(run *store.DagRun) error {
		if run.State != store.RunRunning {
			return store.ErrStateConflict
		}
		run.State, run.EndDate = outcome, now
		return nil
	})
	if errors.Is(err, store.ErrStateConflict) {
		return nil
	}
	if err == nil {
		s.log.Info("run finished", "dag", r.DagID, "run", r.RunID, "state", outcome)
		s.cfg.Metrics.DagRunFinished(r.DagID, string(outcome), now.Sub(r.StartDate))
		if s.cfg.RunFinished != nil {
			s.cfg.RunFinished(ctx, finished)
		}
		// A finished run frees a max_active_runs slot.
		s.Notify()
	}
	return err
}
