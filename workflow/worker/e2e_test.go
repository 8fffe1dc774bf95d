package worker_test

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
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// harness is a scheduler and a local worker pool on a SQLite store and a
// DAG folder written by the test: the path a task takes in `aird standalone`.
type harness struct {
	t           *testing.T
	st          store.Store
	dir, logDir string
	conns       operator.Conns
	concurrency int
}

func newHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	root := t.TempDir()
	h := &harness{t: t, dir: filepath.Join(root, "dags"), logDir: filepath.Join(root, "logs"), concurrency: 4}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.st = st
	return h
}

// run triggers dagID once and runs the scheduler and pool until that run
// has finished; it returns the run and its task instances by task ID.
func (h *harness) run(dagID string) (store.DagRun, map[string]store.TaskInstance) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := queue.NewLocal()
	defer q.Close()
	s := scheduler.New(scheduler.Config{Parallelism: 8, PollInterval: 20 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond, Hostname: "test"}, h.st, q, quiet)
	bag, err := scheduler.NewDAGFolder(h.dir, false).Load(ctx, s)
	if err != nil {
		h.t.Fatal(err)
	}
	d := bag.DAGs[dagID]
	if d == nil {
		h.t.Fatalf("dag %s not loaded: %v", dagID, bag.Errors)
	}
	run, err := scheduler.Trigger(ctx, h.st, d, time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	s.Only([]store.DagRun{run})
	pool := &worker.Pool{
		Queue: q,
		Runner: &worker.Runner{
			Store: h.st, DAGs: s.DAG, LogDir: h.logDir, Hostname: "test", KillGrace: time.Second, Log: quiet, Conns: h.conns,
		},
		Queues: []string{"default"}, Concurrency: h.concurrency, ShutdownGrace: time.Second,
		OnDone: func(store.TaskInstance) { s.Notify() },
	}
	poolCtx, stopPool := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = pool.Run(poolCtx) }()
	err = s.Run(ctx)
	stopPool()
	<-done
	if err != nil || ctx.Err() != nil {
		h.t.Fatalf("scheduler did not finish the run: %v %v", err, ctx.Err())
	}
	run, err = h.st.GetDagRun(h.t.Context(), dagID, run.RunID)
	if err != nil {
		h.t.Fatal(err)
	}
	tis, err := h.st.ListTaskInstances(h.t.Context(), store.TIFilter{DagID: dagID, RunID: run.RunID})
	if err != nil {
		h.t.Fatal(err)
	}
	byID := map[string]store.TaskInstance{}
	for _, ti := range tis {
		byID[ti.TaskID] = ti
	}
	return run, byID
}

// log returns the log of one try.
func (h *harness) log(run store.DagRun, taskID string, try int) string {
	h.t.Helper()
	k := store.TIKey{DagID: run.DagID, RunID: run.RunID, TaskID: taskID}
	data, err := os.ReadFile(logs.LocalPath(h.logDir, logs.RelPath(k, run.LogicalDate, try)))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(data)
}

func (h *harness) outputs(run store.DagRun) map[string]string {
	h.t.Helper()
	out, err := h.st.GetTaskOutputs(h.t.Context(), run.DagID, run.RunID)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func wantStates(t *testing.T, tis map[string]store.TaskInstance, want map[string]store.TIState) {
	t.Helper()
	for id, state := range want {
		if tis[id].State != state {
			t.Errorf("%s = %s, want %s", id, tis[id].State, state)
		}
	}
}

func TestOutputPassingEndToEnd(t *testing.T) {
	h := newHarness(t, map[string]string{"out.hcl": `
dag "out" {
  task "up" { command = "echo noise; echo 42; echo" }
  task "file" { command = "printf 'from file' > \"$AIRD_OUTPUT_FILE\"; echo ignored" }
  task "unread" { command = "echo nobody reads this" }
  task "down" {
    command    = "echo got ${task.up.output} and ${task.file.output}"
    depends_on = [task.up, task.file]
  }
  task "last" {
    command    = "printf '%s' '${task.down.output}' | tr a-z A-Z > \"$AIRD_OUTPUT_FILE\""
    depends_on = [task.down]
  }
}`})
	run, tis := h.run("out")
	if run.State != store.RunSuccess {
		t.Fatalf("run %s: %+v", run.State, tis)
	}
	want := map[string]string{"up": "42", "file": "from file", "down": "got 42 and from file", "last": "GOT 42 AND FROM FILE"}
	got := h.outputs(run)
	for id, v := range want {
		if got[id] != v {
			t.Errorf("output of %s = %q, want %q", id, got[id], v)
		}
	}
	if _, stored := got["unread"]; stored {
		t.Error("the last stdout line of a task no one reads was stored")
	}
	left, _ := filepath.Glob(filepath.Join(h.logDir, "*", "*", "*.output"))
	if len(left) > 0 {
		t.Errorf("output files left next to the logs: %v", left)
	}
}

func TestOutputSizeLimitFailsTheTask(t *testing.T) {
	h := newHarness(t, map[string]string{"big.hcl": `
dag "big" {
  task "line" { command = "head -c 70000 /dev/zero | tr '\\0' x; echo" }
  task "file" { command = "head -c 70000 /dev/zero > \"$AIRD_OUTPUT_FILE\"" }
  task "fits" { command = "head -c 65536 /dev/zero | tr '\\0' y" }
  task "unread" { command = "head -c 70000 /dev/zero | tr '\\0' z; echo" }
  task "reader" {
    command      = "printf '%s' '${length(task.line.output)} ${length(task.fits.output)}' > \"$AIRD_OUTPUT_FILE\""
    depends_on   = [task.line, task.fits]
    trigger_rule = "all_done"
  }
}`})
	run, tis := h.run("big")
	wantStates(t, tis, map[string]store.TIState{
		"line": store.TIFailed, "file": store.TIFailed, "fits": store.TISuccess,
		"unread": store.TISuccess, // no one reads its long line: no limit applies
		"reader": store.TISuccess,
	})
	if log := h.log(run, "line", 1); !strings.Contains(log, "longer than the 64 KiB output limit") {
		t.Errorf("line log:\n%.2000s", log)
	}
	if log := h.log(run, "file", 1); !strings.Contains(log, "task output is 70000 bytes, over the 64 KiB limit") {
		t.Errorf("file log:\n%s", log)
	}
	if got := h.outputs(run); len(got["fits"]) != 65536 || got["line"] != "" || got["file"] != "" || got["reader"] != "0 65536" {
		t.Errorf("outputs: fits %d bytes, line %d, file %d, reader %q", len(got["fits"]), len(got["line"]), len(got["file"]), got["reader"])
	}
}

// sensorDAG is a sensor waiting for a file that only the other task
// creates. With one worker slot and the sensor queued first, the other
// task can run only if the sensor lets go of the slot between pokes.
func sensorDAG(mode, flag string) string {
	return `
dag "wait" {
  task "sensor" {
    wait_for {
      file { path = "` + flag + `" }
      poke_interval = "50ms"
      timeout       = "3s"
      mode          = "` + mode + `"
    }
    priority_weight = 10
  }
  task "other" { command = "touch ` + flag + `" }
}`
}

func TestRescheduleModeFreesTheWorkerSlot(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "flag")
	h := newHarness(t, map[string]string{"wait.hcl": sensorDAG("reschedule", flag)})
	h.concurrency = 1
	run, tis := h.run("wait")
	if run.State != store.RunSuccess {
		t.Fatalf("run %s: sensor %+v\nlog:\n%s", run.State, tis["sensor"], h.log(run, "sensor", 1))
	}
	sensor, other := tis["sensor"], tis["other"]
	if sensor.TryNumber != 1 {
		t.Errorf("sensor try = %d, want 1: pokes between reschedules use no try", sensor.TryNumber)
	}
	if !other.EndDate.Before(sensor.EndDate) || !other.StartDate.After(sensor.StartDate) {
		t.Errorf("other ran %v–%v, sensor %v–%v: other should run between the sensor's pokes",
			other.StartDate, other.EndDate, sensor.StartDate, sensor.EndDate)
	}
	log := h.log(run, "sensor", 1)
	if strings.Count(log, "not yet: no file matches") < 1 || strings.Count(log, "→ up_for_reschedule") < 1 ||
		!strings.Contains(log, "sensor condition met") || !strings.HasSuffix(log, "→ success\n") {
		t.Errorf("the sensor's log should hold every poke in one try:\n%s", log)
	}
}

func TestPokeModeHoldsTheWorkerSlot(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "flag")
	h := newHarness(t, map[string]string{"wait.hcl": sensorDAG("poke", flag)})
	h.concurrency = 1
	run, tis := h.run("wait")
	// The only slot is held by the poking sensor, so the file never comes.
	wantStates(t, tis, map[string]store.TIState{"sensor": store.TIFailed, "other": store.TISuccess})
	if log := h.log(run, "sensor", 1); !strings.Contains(log, "sensor timed out: condition not met within 3s") ||
		strings.Contains(log, "up_for_reschedule") {
		t.Errorf("sensor log:\n%s", log)
	}
	if !tis["other"].StartDate.After(tis["sensor"].EndDate) {
		t.Error("other started before the poking sensor gave up its slot")
	}
}

// A task with nothing to mask and no reader of its output writes into its
// log file directly; one whose log needs masking goes through the masker.
// Either way the log is header, the task's stdout and stderr in order, end.
func TestTaskOutputLandsInTheLogInOrder(t *testing.T) {
	h := newHarness(t, map[string]string{"order.hcl": `
dag "order" {
  task "plain" { command = "echo one; echo two >&2; echo three" }
  task "secret" {
    command = "echo one; echo two ${var.token} >&2; echo three"
  }
}`})
	if err := h.st.SetVariable(t.Context(), store.Variable{Key: "token", Value: "s3cret-token", Secret: true}); err != nil {
		t.Fatal(err)
	}
	run, tis := h.run("order")
	if run.State != store.RunSuccess {
		t.Fatalf("run %s: %+v", run.State, tis)
	}
	for task, two := range map[string]string{"plain": "two", "secret": "two ***"} {
		log := h.log(run, task, 1)
		lines := strings.Split(strings.TrimSpace(log), "\n")
		if len(lines) != 5 || !strings.Contains(lines[0], "aird: try 1 of") || lines[1] != "one" || lines[2] != two ||
			lines[3] != "three" || !strings.Contains(lines[4], "aird: task ended: exit status 0") {
			t.Errorf("%s log:\n%s", task, log)
		}
	}
}
