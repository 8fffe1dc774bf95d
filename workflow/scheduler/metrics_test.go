package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// TestMetricsAfterRun runs a scheduler and a local pool sharing one
// Recorder, as standalone does, and reads Airflow's metrics back.
func TestMetricsAfterRun(t *testing.T) {
	e := newEnv(t, map[string]string{"m.hcl": `
dag "m" {
  task "ok"  { command = "true" }
  task "bad" { command = "exit 3" }
  task "after" {
    command = "true"
    depends_on = [task.bad]
  }
}`})
	reg := metrics.NewRegistry()
	rec, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.Metrics = rec
	ctx, cancel := context.WithCancel(context.Background())
	q := queue.NewLocal()
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, err := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.Trigger(ctx, e.st, bag.DAGs["m"], time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := e.pool(s, q)
	pool.Runner.Metrics = rec
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pool.Run(ctx) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); _ = q.Close() })

	value := func(name string, labels map[string]string) float64 {
		v, _ := metrics.Value(reg, name, labels)
		return v
	}
	// The run's end and a heartbeat after it: the gauges then show an idle
	// executor.
	eventually(t, "run finished and a heartbeat after it", func() bool {
		return e.run("m", run.RunID).State == store.RunFailed && value("aird_scheduler_heartbeat", nil) >= 1 &&
			value("aird_executor_open_slots", nil) == float64(e.cfg.Parallelism)
	})
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"aird_ti_start", map[string]string{"dag_id": "m", "task_id": "ok"}, 1},
		{"aird_ti_start", map[string]string{"dag_id": "m", "task_id": "bad"}, 1},
		{"aird_ti_finish", map[string]string{"dag_id": "m", "task_id": "ok", "state": "success"}, 1},
		{"aird_ti_finish", map[string]string{"dag_id": "m", "task_id": "bad", "state": "failed"}, 1},
		// Set by the scheduler, not a worker: the task never ran.
		{"aird_ti_finish", map[string]string{"dag_id": "m", "task_id": "after", "state": "upstream_failed"}, 1},
		{"aird_dagrun_duration_failed", map[string]string{"dag_id": "m"}, 1},
		{"aird_executor_queued_tasks", nil, 0},
		{"aird_executor_running_tasks", nil, 0},
		{"aird_pool_open_slots", map[string]string{"pool": store.DefaultPool}, store.DefaultPoolSlots},
		{"aird_pool_running_slots", map[string]string{"pool": store.DefaultPool}, 0},
	} {
		got, err := metrics.Value(reg, c.name, c.labels)
		if err != nil || got != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.name, c.labels, got, err, c.want)
		}
	}
	if _, err := metrics.Value(reg, "aird_ti_start", map[string]string{"task_id": "after"}); err == nil {
		t.Error("ti.start counted for a task that never ran")
	}
	if v := value("aird_dag_processing_total_parse_time", nil); v <= 0 {
		t.Errorf("dag_processing.total_parse_time = %v, want > 0", v)
	}
	if _, err := metrics.Value(reg, "aird_scheduler_tasks_executable", nil); err != nil {
		t.Error(err)
	}
}
