// Package sla finds task instances that missed their SLA, records each
// miss once in the store and has it notified.
//
// A task's sla counts from when its run became due: the end of the data
// interval for a scheduled run (as in Airflow, whose SLA starts at the
// following schedule), the logical date for a manual run (its interval is
// empty). A task misses its SLA when it has not succeeded by then: still
// pending or running, failed, or succeeded late. Skipped tasks never miss.
package sla

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// Notifier sends the sla_miss notifiers of a recorded miss and calls done
// with whether all were delivered (notify.Dispatcher implements it).
type Notifier interface {
	SLAMissed(m store.SLAMiss, run store.DagRun, done func(delivered bool))
}

// Checker is the SLA loop of a scheduler. Several schedulers may run one:
// the store records a miss once, and only the recorder notifies it.
type Checker struct {
	Store store.Store
	// DAG returns the current definition of a DAG, or nil.
	DAG    func(dagID string) *dag.DAG
	Notify Notifier // nil: misses are only recorded
	Log    *slog.Logger
	// Interval between checks; default 30s.
	Interval time.Duration
	// Lookback is how far back, beyond the longest SLA, finished runs are
	// re-examined (a task that succeeded late while no checker ran);
	// default two days. Unfinished runs are always examined.
	Lookback time.Duration
	now      func() time.Time
}

func (c *Checker) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Run re-sends misses left unnotified by a previous process, then checks
// every Interval until ctx ends.
func (c *Checker) Run(ctx context.Context) error {
	every := c.Interval
	if every <= 0 {
		every = 30 * time.Second
	}
	if err := c.Resend(ctx); err != nil && ctx.Err() == nil {
		c.Log.Warn("re-send unnotified SLA misses", "err", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.Check(ctx); err != nil && ctx.Err() == nil {
			c.Log.Warn("SLA check failed; trying again next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// resendLimit bounds the misses Resend examines: the newest ones matter.
const resendLimit = 500

// Resend notifies the recorded misses not yet marked notified (the
// process that recorded them stopped before delivery).
func (c *Checker) Resend(ctx context.Context) error {
	misses, _, err := c.Store.ListSLAMisses(ctx, store.SLAMissFilter{Limit: resendLimit})
	if err != nil {
		return fmt.Errorf("list SLA misses: %w", err)
	}
	for _, m := range misses {
		if m.Notified {
			continue
		}
		run, err := c.Store.GetDagRun(ctx, m.DagID, m.RunID)
		if errors.Is(err, store.ErrNotFound) {
			continue // the run was deleted; nothing to link to
		}
		if err != nil {
			return err
		}
		c.notify(ctx, m, run)
	}
	return nil
}

// Check examines every unpaused DAG with task SLAs once and returns the
// misses it recorded.
func (c *Checker) Check(ctx context.Context) ([]store.SLAMiss, error) {
	dags, err := c.Store.ListDAGs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list DAGs: %w", err)
	}
	var found []store.SLAMiss
	var errs []error
	for _, rec := range dags {
		d := c.DAG(rec.DagID)
		if rec.IsPaused || !rec.IsActive || d == nil || d.MaxSLA() == 0 {
			continue
		}
		misses, err := c.checkDAG(ctx, d)
		found = append(found, misses...)
		errs = append(errs, err)
	}
	return found, errors.Join(errs...)
}

func (c *Checker) checkDAG(ctx context.Context, d *dag.DAG) ([]store.SLAMiss, error) {
	runs, err := c.candidateRuns(ctx, d)
	if err != nil {
		return nil, err
	}
	var found []store.SLAMiss
	for _, run := range runs {
		misses, err := c.checkRun(ctx, d, run)
		if err != nil {
			return found, err
		}
		found = append(found, misses...)
	}
	return found, nil
}

// candidateRuns are the DAG's unfinished runs and its recent finished ones.
func (c *Checker) candidateRuns(ctx context.Context, d *dag.DAG) ([]store.DagRun, error) {
	lookback := c.Lookback
	if lookback <= 0 {
		lookback = 48 * time.Hour
	}
	active, _, err := c.Store.ListDagRuns(ctx, store.DagRunFilter{DagID: d.ID, States: []store.RunState{store.RunQueued, store.RunRunning}})
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", d.ID, err)
	}
	recent, _, err := c.Store.ListDagRuns(ctx, store.DagRunFilter{
		DagID: d.ID, States: []store.RunState{store.RunSuccess, store.RunFailed},
		LogicalDateFrom: c.clock().Add(-d.MaxSLA() - lookback),
	})
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", d.ID, err)
	}
	return append(active, recent...), nil
}

// Due is when a run's SLAs start counting (see the package comment).
func Due(run store.DagRun) time.Time {
	if run.DataIntervalEnd.After(run.LogicalDate) {
		return run.DataIntervalEnd
	}
	return run.LogicalDate
}

func (c *Checker) checkRun(ctx context.Context, d *dag.DAG, run store.DagRun) ([]store.SLAMiss, error) {
	now := c.clock()
	var overdue []*dag.Task
	for _, t := range d.Tasks {
		if t.SLA > 0 && now.After(Due(run).Add(t.SLA)) {
			overdue = append(overdue, t)
		}
	}
	if len(overdue) == 0 {
		return nil, nil
	}
	tis, err := c.Store.ListTaskInstances(ctx, store.TIFilter{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		return nil, fmt.Errorf("list task instances of %s/%s: %w", run.DagID, run.RunID, err)
	}
	byID := make(map[string]store.TaskInstance, len(tis))
	for _, ti := range tis {
		byID[ti.TaskID] = ti
	}
	var found []store.SLAMiss
	for _, t := range overdue {
		ti, ok := byID[t.ID]
		deadline := Due(run).Add(t.SLA)
		if !ok || metSLA(ti, deadline) {
			continue
		}
		m := store.SLAMiss{DagID: run.DagID, TaskID: t.ID, RunID: run.RunID, LogicalDate: run.LogicalDate, Deadline: deadline, DetectedAt: now}
		created, err := c.Store.RecordSLAMiss(ctx, m)
		if err != nil {
			return found, fmt.Errorf("record SLA miss of %s.%s in %s: %w", m.DagID, m.TaskID, m.RunID, err)
		}
		if !created {
			continue
		}
		c.Log.Warn("SLA missed", "dag", m.DagID, "task", m.TaskID, "run", m.RunID, "deadline", deadline, "state", ti.State.String())
		found = append(found, m)
		c.notify(ctx, m, run)
	}
	return found, nil
}

// metSLA: succeeded by the deadline, or skipped (nothing was due).
func metSLA(ti store.TaskInstance, deadline time.Time) bool {
	switch ti.State {
	case store.TISkipped:
		return true
	case store.TISuccess:
		return !ti.EndDate.After(deadline)
	}
	return false
}

// notify sends the miss and marks it notified once every notifier has it.
func (c *Checker) notify(ctx context.Context, m store.SLAMiss, run store.DagRun) {
	if c.Notify == nil {
		return
	}
	c.Notify.SLAMissed(m, run, func(delivered bool) {
		if !delivered {
			return // logged by the notifier; re-sent at the next start
		}
		if err := c.Store.MarkSLAMissNotified(context.WithoutCancel(ctx), m.DagID, m.TaskID, m.RunID); err != nil {
			c.Log.Warn("mark SLA miss notified", "dag", m.DagID, "task", m.TaskID, "run", m.RunID, "err", err)
		}
	})
}
