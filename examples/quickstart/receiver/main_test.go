package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/notify"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// lockedBuffer collects what the receiver prints while it serves.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestReceiverAPI(t *testing.T) {
	dir := t.TempDir()
	var printed lockedBuffer
	srv := httptest.NewServer(newServer(t.Context(), dir, time.Millisecond, &printed, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL+"/api/export?day=20261123", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK   bool   `json:"ok"`
		File string `json:"file"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	want := filepath.Join(dir, "export-20261123.csv")
	if err != nil || !got.OK || got.File != want {
		t.Fatalf("export answer %+v %v, want the file %s", got, err, want)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(want)
		if err == nil {
			if string(data) != "day,orders\n20261123,42\n" {
				t.Errorf("export file = %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the export file never appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp, err := http.Post(srv.URL+"/api/export?day=today", "", nil); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad day: %v %v, want 400", resp.Status, err)
	}

	resp, err = http.Post(srv.URL+"/hooks/demo", "application/json", strings.NewReader(`{"state": "success"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("webhook: %v %v", resp.Status, err)
	}
	if !strings.Contains(printed.String(), `receiver: webhook demo: {"state": "success"}`) {
		t.Errorf("printed: %q", printed.String())
	}
	if hooks := listHooks(t, srv.URL); len(hooks) != 1 || hooks[0].Name != "demo" {
		t.Errorf("hooks = %+v", hooks)
	}
}

func listHooks(t *testing.T, base string) []hook {
	t.Helper()
	resp, err := http.Get(base + "/hooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hooks []hook
	if err := json.NewDecoder(resp.Body).Decode(&hooks); err != nil {
		t.Fatal(err)
	}
	return hooks
}

// TestServiceCheckExample runs the quickstart's service_check DAG as `make
// demo` does (scheduler, local worker, notifications) against this
// receiver: the http task's output leads the file sensor to the export,
// the report reads it, and the webhook reports the run's success.
func TestServiceCheckExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	root := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	var printed lockedBuffer
	recv := httptest.NewServer(newServer(ctx, root, 300*time.Millisecond, &printed, quiet))
	t.Cleanup(recv.Close)

	st, err := sqlite.Open(ctx, filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q := queue.NewLocal()
	defer q.Close()
	var s *scheduler.Scheduler
	notifier := notify.New(ctx, notify.Options{Store: st, DAGs: func(id string) *dag.DAG { return s.DAG(id) }, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Log: quiet})
	cfg := scheduler.Config{
		Parallelism: 4, PollInterval: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond, Hostname: "test",
		RunFinished: func(_ context.Context, run store.DagRun) { notifier.RunFinished(run) },
	}
	s = scheduler.New(cfg, st, q, quiet)
	bag, err := scheduler.NewDAGFolder("../dags", false).Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(bag.Errors) > 0 {
		var b strings.Builder
		bag.FormatErrors(&b, false)
		t.Fatalf("the example DAGs do not load:\n%s", b.String())
	}
	run, err := scheduler.Trigger(ctx, st, bag.DAGs["service_check"], time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), map[string]any{"receiver": recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s.Only([]store.DagRun{run})
	env := map[string]string{connections.EnvName("demo_service"): recv.URL}
	logDir := filepath.Join(root, "logs")
	pool := &worker.Pool{
		Queue: q, Queues: []string{"default"}, Concurrency: 2, ShutdownGrace: time.Second,
		Runner: &worker.Runner{
			Store: st, DAGs: s.DAG, LogDir: logDir, Hostname: "test", KillGrace: time.Second, Log: quiet,
			Conns: connections.NewResolver(st, nil, func(k string) string { return env[k] }),
		},
		OnDone: func(store.TaskInstance) { s.Notify() },
	}
	poolCtx, stopPool := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = pool.Run(poolCtx) }()
	err = s.Run(ctx)
	stopPool()
	<-done
	if err != nil || ctx.Err() != nil {
		t.Fatalf("scheduler: %v %v", err, ctx.Err())
	}
	if err := notifier.Close(ctx); err != nil {
		t.Fatal(err)
	}

	final, err := st.GetDagRun(ctx, run.DagID, run.RunID)
	if err != nil || final.State != store.RunSuccess {
		t.Fatalf("run %s %v", final.State, err)
	}
	report := readLog(t, logDir, final, "report")
	if !strings.Contains(report, "export for 2026-11-23:\nday,orders\n20261123,42\n42\n") {
		t.Errorf("report log:\n%s", report)
	}
	sensor := readLog(t, logDir, final, "wait_for_export")
	if !strings.Contains(sensor, "not yet: no file matches") || !strings.Contains(sensor, "→ up_for_reschedule") || !strings.Contains(sensor, "sensor condition met") {
		t.Errorf("the sensor should have waited for the export in reschedule mode:\n%s", sensor)
	}
	hooks := listHooks(t, recv.URL)
	if len(hooks) != 1 {
		t.Fatalf("webhooks received: %+v", hooks)
	}
	var payload notify.WebhookPayload
	if err := json.Unmarshal(hooks[0].Body, &payload); err != nil || payload.DagID != "service_check" || payload.State != "success" || payload.RunID != run.RunID {
		t.Errorf("webhook payload %+v %v", payload, err)
	}
}

func readLog(t *testing.T, base string, run store.DagRun, taskID string) string {
	t.Helper()
	f, err := os.Open(logs.LocalPath(base, logs.RelPath(store.TIKey{DagID: run.DagID, RunID: run.RunID, TaskID: taskID}, run.LogicalDate, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
