package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// airdBin is built once for the process-level tests.
var airdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aird-bin")
	if err != nil {
		panic(err)
	}
	airdBin = filepath.Join(dir, "aird")
	build := exec.Command("go", "build", "-tags", "disable_grpc_modules", "-o", airdBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build aird: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// home is an AIRD_HOME with one DAG file and fast scheduler settings.
type home struct {
	t    *testing.T
	dir  string
	mark string
}

func newHome(t *testing.T, shutdownGrace string) *home {
	t.Helper()
	h := &home{t: t, dir: t.TempDir()}
	h.mark = filepath.Join(h.dir, "first-try-started")
	dags := filepath.Join(h.dir, "dags")
	must(t, os.MkdirAll(dags, 0o755))
	must(t, os.WriteFile(filepath.Join(h.dir, "aird.hcl"), []byte(`
core {
  dags_are_paused_at_creation = false
}
scheduler {
  poll_interval      = "50ms"
  heartbeat_interval = "100ms"
}
worker {
  kill_grace     = "200ms"
  shutdown_grace = "`+shutdownGrace+`"
}
`), 0o644))
	// The first try marks itself and blocks; any later try succeeds.
	must(t, os.WriteFile(filepath.Join(dags, "long.hcl"), []byte(`
dag "long" {
  task "work" {
    command = "if [ -f \"$MARK\" ]; then echo later try; exit 0; fi; touch \"$MARK\"; exec sleep 60"
    env     = { MARK = "`+h.mark+`" }
  }
  task "after" {
    command    = "echo after"
    depends_on = [task.work]
  }
}
`), 0o644))
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *home) cmd(args ...string) *exec.Cmd {
	c := exec.Command(airdBin, args...)
	c.Env = append(os.Environ(), "AIRD_HOME="+h.dir, "AIRD_DAGS_FOLDER=")
	return c
}

func (h *home) run(args ...string) string {
	h.t.Helper()
	out, err := h.cmd(args...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("aird %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// standalone starts `aird standalone`; cleanup kills it if still running.
func (h *home) standalone() *exec.Cmd {
	h.t.Helper()
	c := h.cmd("standalone", "--log-level", "debug", "--port", "0")
	logf, err := os.Create(filepath.Join(h.dir, "standalone.log"))
	must(h.t, err)
	c.Stdout, c.Stderr = logf, logf
	must(h.t, c.Start())
	h.t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
		logf.Close()
	})
	return c
}

func (h *home) store() store.Store {
	h.t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(h.dir, "aird.db"))
	must(h.t, err)
	h.t.Cleanup(func() { st.Close() })
	return st
}

func (h *home) ti(st store.Store, runID, task string) store.TaskInstance {
	h.t.Helper()
	ti, err := st.GetTaskInstance(context.Background(), store.TIKey{DagID: "long", RunID: runID, TaskID: task})
	must(h.t, err)
	return ti
}

// waitFor polls an observable condition (a file, a row) with a deadline.
func (h *home) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(h.dir, "standalone.log"))
			h.t.Fatalf("timed out waiting for %s; standalone log:\n%s", what, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *home) triggerRun() string {
	out := h.run("dags", "trigger", "long")
	fields := strings.Fields(out)
	if len(fields) < 3 {
		h.t.Fatalf("unexpected trigger output %q", out)
	}
	return fields[2]
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestStandaloneCrashMidRunRecoversRunningTask(t *testing.T) {
	h := newHome(t, "10s")
	first := h.standalone()
	runID := h.triggerRun()
	h.waitFor("the first try to start", func() bool { return exists(h.mark) })

	must(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()

	h.standalone()
	st := h.store()
	h.waitFor("the run to succeed after restart", func() bool {
		r, err := st.GetDagRun(context.Background(), "long", runID)
		return err == nil && r.State == store.RunSuccess
	})
	work := h.ti(st, runID, "work")
	if work.State != store.TISuccess || work.TryNumber != 2 || work.MaxTries != 1 {
		t.Fatalf("work: %s try %d max_tries %d; want success on try 2, the crashed try not charged", work.State, work.TryNumber, work.MaxTries)
	}
	if after := h.ti(st, runID, "after"); after.State != store.TISuccess {
		t.Fatalf("downstream task: %s", after.State)
	}
}

func TestStandaloneSIGTERMHandsBackRunningTask(t *testing.T) {
	h := newHome(t, "100ms")
	first := h.standalone()
	runID := h.triggerRun()
	st := h.store()
	h.waitFor("the task to run", func() bool { return h.ti(st, runID, "work").State == store.TIRunning })

	must(t, first.Process.Signal(syscall.SIGTERM))
	if err := first.Wait(); err != nil {
		t.Fatalf("standalone did not exit cleanly on SIGTERM: %v", err)
	}
	if ti := h.ti(st, runID, "work"); ti.State != store.TIScheduled {
		t.Fatalf("after SIGTERM the task is %s, want scheduled (handed back)", ti.State)
	}

	h.standalone()
	h.waitFor("the run to succeed after restart", func() bool {
		r, err := st.GetDagRun(context.Background(), "long", runID)
		return err == nil && r.State == store.RunSuccess
	})
}

func TestCLIHelpAndTasksTest(t *testing.T) {
	h := newHome(t, "1s")
	for _, args := range [][]string{{"--help"}, {"dags", "--help"}, {"dags", "backfill", "--help"}, {"tasks", "test", "--help"}, {"db", "migrate", "--help"}, {"standalone", "--help"}, {"scheduler", "--help"}, {"worker", "--help"}} {
		if out := h.run(args...); !strings.Contains(out, "Usage:") {
			t.Errorf("aird %v: no usage in %q", args, out)
		}
	}
	out := h.run("tasks", "test", "long", "after", "2024-01-01")
	if !strings.Contains(out, "+ echo after") || !strings.Contains(out, "after\n") {
		t.Fatalf("tasks test output %q", out)
	}
	// A failing task's exit code comes back out of `tasks test`.
	c := h.cmd("tasks", "test", "long", "nope", "2024-01-01")
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), `task "nope" not found`) {
		t.Fatalf("unknown task: %v %s", err, out)
	}
	if out := h.run("db", "migrate"); !strings.Contains(out, "up to date") {
		t.Fatalf("db migrate: %s", out)
	}
	if out := h.run("dags", "list"); !strings.Contains(out, "long") {
		t.Fatalf("dags list: %s", out)
	}
}
