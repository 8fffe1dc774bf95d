package logs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// A run on the local executor (scheduler, worker pool, SQLite store) ends
// with each try's log in the bucket at the reference path, and with
// delete_local_logs, not on disk.
func TestWorkerShipsTaskLogs(t *testing.T) {
	b := newBucket(t)
	root := t.TempDir()
	dags, logDir := filepath.Join(root, "dags"), filepath.Join(root, "logs")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		t.Fatal(err)
	}
	src := `
dag "shipme" {
  task "hello" { command = "echo hello from the task" }
}
`
	if err := os.WriteFile(filepath.Join(dags, "shipme.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := queue.NewLocal()
	defer q.Close()
	s := scheduler.New(scheduler.Config{Parallelism: 2, PollInterval: 20 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond, Hostname: "test"}, st, q, log)
	bag, err := scheduler.NewDAGFolder(dags, false).Load(ctx, s)
	if err != nil || bag.DAGs["shipme"] == nil {
		t.Fatalf("load: %v %v", err, bag.Errors)
	}
	run, err := scheduler.Trigger(ctx, st, bag.DAGs["shipme"], time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Only([]store.DagRun{run})
	pool := &worker.Pool{
		Queue: q,
		Runner: &worker.Runner{
			Store: st, DAGs: s.DAG, LogDir: logDir, Hostname: "test", KillGrace: time.Second, Log: log,
			Shipper: b.shipper(filepath.Join(logDir, ".upload-pending"), true),
		},
		Queues: []string{"default"}, Concurrency: 2, ShutdownGrace: time.Second,
		OnDone: func(store.TaskInstance) { s.Notify() },
	}
	poolCtx, stopPool := context.WithCancel(ctx)
	poolDone := make(chan error, 1)
	go func() { poolDone <- pool.Run(poolCtx) }()
	// The scheduler returns once its only run is finished; the pool has
	// shipped the log before it reported the task done.
	if err := s.Run(ctx); err != nil || ctx.Err() != nil {
		t.Fatalf("run did not finish: %v %v", err, ctx.Err())
	}
	stopPool()
	if err := <-poolDone; err != nil {
		t.Fatal(err)
	}

	ti, err := st.GetTaskInstance(ctx, store.TIKey{DagID: "shipme", RunID: run.RunID, TaskID: "hello"})
	if err != nil || ti.State != store.TISuccess {
		t.Fatalf("task: %+v %v", ti, err)
	}
	rel := logs.RelPath(ti.TIKey, run.LogicalDate, 1)
	name := "logs/shipme/hello/2024-05-06T00:00:00+00:00/1.log"
	got, ok := b.object(name)
	if !ok {
		t.Fatalf("no object %s", name)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if !strings.Contains(got, "hello from the task\n") || !logs.IsEndLine(lines[len(lines)-1]) {
		t.Fatalf("shipped log:\n%s", got)
	}
	if exists(t, logs.LocalPath(logDir, rel)) {
		t.Error("local log kept despite delete_local_logs")
	}
}
