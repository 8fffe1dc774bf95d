package operator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// Poker checks a sensor's condition once. An error fails the try; false
// means not yet.
type Poker interface {
	Poke(ctx context.Context, env *Env) (bool, error)
}

// Sensor pokes until its condition holds or Timeout passes. In poke mode
// it sleeps between pokes holding its worker slot; in reschedule mode it
// pokes once per try and returns Result.NextPoke, so the slot is free
// until then.
type Sensor struct {
	Poker        Poker
	PokeInterval time.Duration
	Timeout      time.Duration
	Reschedule   bool
}

// Run pokes; its output is empty.
func (s *Sensor) Run(ctx context.Context, env *Env) (Result, error) {
	start := env.now()
	if s.Reschedule && !env.FirstPoke.IsZero() {
		start = env.FirstPoke
	}
	deadline := start.Add(s.Timeout)
	for {
		ok, err := s.Poker.Poke(ctx, env)
		if err != nil {
			return Result{}, err
		}
		if ok {
			env.logf("sensor condition met")
			return Result{}, nil
		}
		now := env.now()
		if !now.Before(deadline) {
			return Result{}, fmt.Errorf("%w: condition not met within %s; raise the wait_for timeout or check what the sensor waits for", ErrSensorTimeout, s.Timeout)
		}
		next := now.Add(min(s.PokeInterval, deadline.Sub(now)))
		if s.Reschedule {
			env.logf("condition not met; rescheduled to %s, freeing the worker slot", next.UTC().Format(time.RFC3339))
			return Result{NextPoke: next}, nil
		}
		if err := sleep(ctx, next.Sub(now)); err != nil {
			return Result{}, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// FileExists is the file sensor: met when Path (a glob pattern) matches
// at least one file.
type FileExists struct {
	Path string
}

// Poke looks once.
func (f *FileExists) Poke(_ context.Context, env *Env) (bool, error) {
	matches, err := filepath.Glob(f.Path)
	if err != nil {
		return false, fmt.Errorf("file sensor path %q: %w", f.Path, err)
	}
	for _, m := range matches {
		if _, err := os.Stat(m); err == nil {
			return true, nil
		}
	}
	env.logf("not yet: no file matches %s", f.Path)
	return false, nil
}

// ExternalTask is the external_task sensor: met when the task of another
// DAG succeeded in that DAG's run with the same logical date. Its failure
// fails the sensor rather than waiting out the timeout.
type ExternalTask struct {
	DagID, TaskID string
}

// Poke reads the other task instance's state once.
func (x *ExternalTask) Poke(ctx context.Context, env *Env) (bool, error) {
	ld := env.Run.LogicalDate
	runs, _, err := env.Store.ListDagRuns(ctx, store.DagRunFilter{DagID: x.DagID, LogicalDateFrom: ld, LogicalDateTo: ld, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("external_task: find run of %s: %w", x.DagID, err)
	}
	if len(runs) == 0 {
		env.logf("not yet: %s has no run for %s", x.DagID, ld.UTC().Format(time.RFC3339))
		return false, nil
	}
	ti, err := env.Store.GetTaskInstance(ctx, store.TIKey{DagID: x.DagID, RunID: runs[0].RunID, TaskID: x.TaskID})
	if errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("external_task: run %s of %s has no task %q; check task_id", runs[0].RunID, x.DagID, x.TaskID)
	}
	if err != nil {
		return false, fmt.Errorf("external_task: %w", err)
	}
	switch ti.State {
	case store.TISuccess:
		return true, nil
	case store.TIFailed, store.TIUpstreamFailed, store.TISkipped:
		return false, fmt.Errorf("external_task %s.%s ended %s in run %s", x.DagID, x.TaskID, ti.State, runs[0].RunID)
	}
	env.logf("not yet: %s.%s is %s in run %s", x.DagID, x.TaskID, ti.State, runs[0].RunID)
	return false, nil
}
