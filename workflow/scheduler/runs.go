package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// RunID names a run as Airflow does: "<type>__<logical date>".
// Fractions of a second appear only when the date has them (a manual run
// triggered "now"), so two triggers in one second get distinct IDs while
// scheduled runs keep Airflow's plain form.
func RunID(t store.RunType, logicalDate time.Time) string {
	return string(t) + "__" + logicalDate.UTC().Format(runIDFormat)
}

// runIDFormat is Airflow's ts (logs.TSFormat) with optional microseconds.
const runIDFormat = "2006-01-02T15:04:05.999999-07:00"

// NewRun builds a queued run of d and its task instances (state none).
func NewRun(d *dag.DAG, t store.RunType, iv dag.Interval, conf map[string]any, now time.Time) (store.DagRun, []store.TaskInstance) {
	run := store.DagRun{
		DagID:             d.ID,
		RunID:             RunID(t, iv.Start),
		RunType:           t,
		State:             store.RunQueued,
		LogicalDate:       iv.Start,
		DataIntervalStart: iv.Start,
		DataIntervalEnd:   iv.End,
		Conf:              conf,
		ExternalTrigger:   t == store.RunManual,
		QueuedAt:          now,
	}
	weights := d.PriorityWeights()
	tis := make([]store.TaskInstance, 0, len(d.Tasks))
	for _, task := range d.Tasks {
		tis = append(tis, store.TaskInstance{
			TIKey:          store.TIKey{DagID: d.ID, RunID: run.RunID, TaskID: task.ID},
			MaxTries:       task.Retries,
			Queue:          task.Queue,
			Pool:           task.Pool,
			PoolSlots:      task.PoolSlots,
			PriorityWeight: weights[task.ID],
			Operator:       task.Kind(),
		})
	}
	return run, tis
}

// Trigger creates a manual run of d for logicalDate (now if zero).
func Trigger(ctx context.Context, st store.Store, d *dag.DAG, logicalDate time.Time, conf map[string]any) (store.DagRun, error) {
	now := time.Now()
	if logicalDate.IsZero() {
		logicalDate = now
	}
	if _, err := d.MergeParams(conf); err != nil {
		return store.DagRun{}, fmt.Errorf("trigger %s: conf does not fit the DAG params: %w", d.ID, err)
	}
	run, tis := NewRun(d, store.RunManual, dag.Interval{Start: logicalDate, End: logicalDate}, conf, now)
	return st.CreateDagRun(ctx, run, tis)
}

// Backfill creates backfill runs for every interval of d whose start lies
// in [from, to], skipping logical dates that already have a run.
func Backfill(ctx context.Context, st store.Store, d *dag.DAG, from, to time.Time) ([]store.DagRun, error) {
	if d.Schedule == nil {
		return nil, fmt.Errorf("backfill %s: the DAG has no schedule; trigger it instead", d.ID)
	}
	var runs []store.DagRun
	for _, iv := range d.IntervalsBetween(from, to) {
		run, tis := NewRun(d, store.RunBackfill, iv, nil, time.Now())
		created, err := st.CreateDagRun(ctx, run, tis)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return runs, err
		}
		runs = append(runs, created)
	}
	return runs, nil
}

// createScheduledRuns creates every due scheduled run of unpaused DAGs,
// up to max_active_runs, and returns when the next one falls due.
func (s *Scheduler) createScheduledRuns(ctx context.Context, paused map[string]bool) (time.Time, error) {
	b := s.bag.Load()
	if b == nil {
		return time.Time{}, nil
	}
	var next time.Time
	for _, d := range b.DAGs {
		if d.Schedule == nil || paused[d.ID] {
			continue
		}
		due, err := s.createRunsFor(ctx, d)
		if err != nil {
			return next, fmt.Errorf("schedule %s: %w", d.ID, err)
		}
		next = earliest(next, due)
	}
	return next, nil
}

func (s *Scheduler) createRunsFor(ctx context.Context, d *dag.DAG) (time.Time, error) {
	last, err := s.lastScheduled(ctx, d.ID)
	if err != nil {
		return time.Time{}, err
	}
	_, active, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: d.ID, States: []store.RunState{store.RunQueued, store.RunRunning}, Limit: 1})
	if err != nil {
		return time.Time{}, err
	}
	for active < d.MaxActiveRuns {
		iv, ok := d.NextInterval(last, s.now())
		if !ok {
			break
		}
		run, tis := NewRun(d, store.RunScheduled, iv, nil, s.now())
		_, err := s.store.CreateDagRun(ctx, run, tis)
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return time.Time{}, err
		}
		if err == nil {
			s.log.Info("created run", "dag", d.ID, "run", run.RunID)
			active++
		}
		last = &iv
	}
	// At max_active_runs a finishing run wakes the loop; no timer needed.
	if iv, ok := d.NextIntervalAfter(last); ok && active < d.MaxActiveRuns && iv.End.After(s.now()) {
		return iv.End, nil
	}
	return time.Time{}, nil
}

// lastScheduled is the data interval of the newest scheduled run.
func (s *Scheduler) lastScheduled(ctx context.Context, dagID string) (*dag.Interval, error) {
	runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, RunTypes: []store.RunType{store.RunScheduled}, Desc: true, Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &dag.Interval{Start: runs[0].DataIntervalStart, End: runs[0].DataIntervalEnd}, nil
}
