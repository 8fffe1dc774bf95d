package operator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// creatingPoker creates the file the wrapped file sensor waits for after
// its second poke, so the test knows exactly when the condition turns.
type creatingPoker struct {
	inner operator.Poker
	path  string
	pokes int
}

func (c *creatingPoker) Poke(ctx context.Context, env *operator.Env) (bool, error) {
	ok, err := c.inner.Poke(ctx, env)
	c.pokes++
	if c.pokes == 2 {
		if err := os.WriteFile(c.path, nil, 0o644); err != nil {
			return false, err
		}
	}
	return ok, err
}

func fileSensor(t *testing.T, path, settings string) *operator.Sensor {
	t.Helper()
	op := build(t, `
    wait_for {
      file { path = "`+path+`" }
      `+settings+`
    }`, dag.RunContext{})
	s, ok := op.(*operator.Sensor)
	if !ok {
		t.Fatalf("wait_for built a %T", op)
	}
	return s
}

func TestFileSensorPokeMode(t *testing.T) {
	dir := t.TempDir()
	s := fileSensor(t, filepath.Join(dir, "*.ready"), `poke_interval = "1ms"`)
	cp := &creatingPoker{inner: s.Poker, path: filepath.Join(dir, "a.ready")}
	s.Poker = cp
	var log syncBuffer
	res, err := s.Run(t.Context(), &operator.Env{Log: &log})
	if err != nil || !res.NextPoke.IsZero() {
		t.Fatalf("%+v %v", res, err)
	}
	if cp.pokes != 3 {
		t.Errorf("pokes = %d, want 3 (two misses, then the file)", cp.pokes)
	}
	if n := strings.Count(log.String(), "not yet: no file matches"); n != 2 {
		t.Errorf("log has %d misses:\n%s", n, log.String())
	}
}

func TestSensorTimeouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "never")
	// Poke mode: the whole wait happens in one Run.
	s := fileSensor(t, path, `
      poke_interval = "1ms"
      timeout       = "20ms"`)
	if _, err := s.Run(t.Context(), &operator.Env{}); !errors.Is(err, operator.ErrSensorTimeout) {
		t.Errorf("poke mode: err = %v, want ErrSensorTimeout", err)
	}
	// Reschedule mode: the timeout counts from the first poke of the first try.
	s = fileSensor(t, path, `
      poke_interval = "1m"
      timeout       = "10m"
      mode          = "reschedule"`)
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	env := &operator.Env{Now: func() time.Time { return now }, FirstPoke: now.Add(-5 * time.Minute)}
	res, err := s.Run(t.Context(), env)
	if err != nil || !res.NextPoke.Equal(now.Add(time.Minute)) {
		t.Errorf("within timeout: %+v %v, want next poke in 1m", res, err)
	}
	env.FirstPoke = now.Add(-9*time.Minute - 30*time.Second)
	if res, err = s.Run(t.Context(), env); err != nil || !res.NextPoke.Equal(now.Add(30*time.Second)) {
		t.Errorf("near the timeout: %+v %v, want the last poke at the deadline", res, err)
	}
	env.FirstPoke = now.Add(-10 * time.Minute)
	if _, err = s.Run(t.Context(), env); !errors.Is(err, operator.ErrSensorTimeout) {
		t.Errorf("past the timeout: err = %v, want ErrSensorTimeout", err)
	}
}

func TestPokeModeStopsWithContext(t *testing.T) {
	s := fileSensor(t, filepath.Join(t.TempDir(), "never"), `poke_interval = "1h"`)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Run(ctx, &operator.Env{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestExternalTaskSensor(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ld := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	s := build(t, `
    wait_for {
      external_task {
        dag_id  = "upstream_dag"
        task_id = "publish"
      }
      mode = "reschedule"
    }`, dag.RunContext{})
	env := &operator.Env{Store: st, Run: store.DagRun{DagID: "d", RunID: "r", LogicalDate: ld}}
	if res, err := s.Run(ctx, env); err != nil || res.NextPoke.IsZero() {
		t.Fatalf("no run yet: %+v %v, want rescheduled", res, err)
	}
	run, err := st.CreateDagRun(ctx, store.DagRun{DagID: "upstream_dag", RunID: "scheduled__1", RunType: store.RunScheduled, State: store.RunRunning, LogicalDate: ld},
		[]store.TaskInstance{{TIKey: store.TIKey{TaskID: "publish"}, State: store.TIRunning}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.Run(ctx, env); err != nil || res.NextPoke.IsZero() {
		t.Fatalf("task running: %+v %v, want rescheduled", res, err)
	}
	setState := func(state store.TIState) {
		if _, err := st.UpdateTaskInstance(ctx, store.TIKey{DagID: run.DagID, RunID: run.RunID, TaskID: "publish"}, func(ti *store.TaskInstance) error {
			ti.State = state
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setState(store.TISuccess)
	if res, err := s.Run(ctx, env); err != nil || !res.NextPoke.IsZero() {
		t.Errorf("task succeeded: %+v %v, want the condition met", res, err)
	}
	setState(store.TIFailed)
	if _, err := s.Run(ctx, env); err == nil || !strings.Contains(err.Error(), "upstream_dag.publish ended failed") {
		t.Errorf("task failed: err = %v, want the sensor to fail", err)
	}
}
