package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// env is a scheduler, a local worker pool and a SQLite store on a DAG
// folder written by the test.
type env struct {
	t      testing.TB
	st     store.Store
	dir    string
	logDir string
	cfg    scheduler.Config
	// concurrency of the local pool
	concurrency int
	killGrace   time.Duration
}

func newEnv(t testing.TB, files map[string]string) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, dir: filepath.Join(root, "dags"), logDir: filepath.Join(root, "logs"), concurrency: 8, killGrace: 200 * time.Millisecond}
	e.cfg = scheduler.Config{Parallelism: 8, PollInterval: 20 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond, Hostname: "test"}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		e.write(name, src)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.st = st
	return e
}

func (e *env) write(name, src string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// running is a scheduler and pool started in the background.
type running struct {
	sched *scheduler.Scheduler
	stop  func()
	bag   *dag.Bag
}

// start runs scheduler and pool until the returned stop is called (also at
// cleanup). With only set, the scheduler works on those runs alone and
// wait() returns when they are finished.
func (e *env) start(paused bool) *running {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	q := queue.NewLocal()
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, err := scheduler.NewDAGFolder(e.dir, paused).Load(ctx, s)
	if err != nil {
		e.t.Fatal(err)
	}
	pool := e.pool(s, q)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pool.Run(ctx) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			_ = s.ReleaseQueued(context.Background())
			_ = q.Close()
		})
	}
	e.t.Cleanup(stop)
	return &running{sched: s, stop: stop, bag: bag}
}

func (e *env) pool(s *scheduler.Scheduler, q queue.Queue) *worker.Pool {
	return &worker.Pool{
		Queue:         q,
		Runner:        &worker.Runner{Store: e.st, DAGs: s.DAG, LogDir: e.logDir, Hostname: "test", KillGrace: e.killGrace, Log: e.logger()},
		Queues:        []string{"default"},
		Concurrency:   e.concurrency,
		ShutdownGrace: time.Second,
		OnDone:        func(store.TaskInstance) { s.Notify() },
	}
}

// runToCompletion triggers dagID once and runs only that run until it ends.
func (e *env) runToCompletion(dagID string, conf map[string]any) store.DagRun {
	e.t.Helper()
	ctx := context.Background()
	q := queue.NewLocal()
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, err := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s)
	if err != nil {
		e.t.Fatal(err)
	}
	d := bag.DAGs[dagID]
	if d == nil {
		e.t.Fatalf("dag %s not loaded; errors: %v", dagID, bag.Errors)
	}
	run, err := scheduler.Trigger(ctx, e.st, d, time.Time{}, conf)
	if err != nil {
		e.t.Fatal(err)
	}
	e.runOnly(s, q, []store.DagRun{run})
	return e.run(dagID, run.RunID)
}

// runOnly runs scheduler s restricted to runs, with a pool, to completion.
func (e *env) runOnly(s *scheduler.Scheduler, q *queue.Local, runs []store.DagRun) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.Only(runs)
	poolCtx, stopPool := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.pool(s, q).Run(poolCtx) }()
	err := s.Run(ctx)
	stopPool()
	<-done
	if err != nil || ctx.Err() != nil {
		e.t.Fatalf("scheduler did not finish the runs: %v %v", err, ctx.Err())
	}
}

func (e *env) run(dagID, runID string) store.DagRun {
	e.t.Helper()
	r, err := e.st.GetDagRun(context.Background(), dagID, runID)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) tis(dagID, runID string) map[string]store.TaskInstance {
	e.t.Helper()
	tis, err := e.st.ListTaskInstances(context.Background(), store.TIFilter{DagID: dagID, RunID: runID})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]store.TaskInstance{}
	for _, ti := range tis {
		out[ti.TaskID] = ti
	}
	return out
}

// eventually polls the store-backed condition until it holds or a
// deadline passes; the scheduler under test runs on its own timers.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
