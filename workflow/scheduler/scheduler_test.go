package scheduler_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

func TestTriggerRulesEndToEnd(t *testing.T) {
	e := newEnv(t, map[string]string{"rules.hcl": `
dag "rules" {
  task "ok"   { command = "true" }
  task "bad"  { command = "exit 3" }
  task "all_success" {
    command = "true"
    depends_on = [task.ok, task.bad]
  }
  task "all_failed" {
    command = "true"
    trigger_rule = "all_failed"
    depends_on = [task.bad]
  }
  task "all_done" {
    command = "true"
    trigger_rule = "all_done"
    depends_on = [task.ok, task.bad]
  }
  task "one_success" {
    command = "true"
    trigger_rule = "one_success"
    depends_on = [task.ok, task.bad]
  }
  task "one_failed" {
    command = "true"
    trigger_rule = "one_failed"
    depends_on = [task.ok, task.bad]
  }
  task "none_failed" {
    command = "true"
    trigger_rule = "none_failed"
    depends_on = [task.ok, task.bad]
  }
  task "after_skip" {
    command = "true"
    depends_on = [task.all_failed_skipped]
  }
  task "all_failed_skipped" {
    command = "true"
    trigger_rule = "all_failed"
    depends_on = [task.ok]
  }
  task "chain_after_upstream_failed" {
    command = "true"
    depends_on = [task.all_success]
  }
}`})
	run := e.runToCompletion("rules", nil)
	want := map[string]store.TIState{
		"ok": store.TISuccess, "bad": store.TIFailed,
		"all_success": store.TIUpstreamFailed, "all_failed": store.TISuccess, "all_done": store.TISuccess,
		"one_success": store.TISuccess, "one_failed": store.TISuccess, "none_failed": store.TIUpstreamFailed,
		"all_failed_skipped": store.TISkipped, "after_skip": store.TISkipped,
		"chain_after_upstream_failed": store.TIUpstreamFailed,
	}
	got := e.tis("rules", run.RunID)
	for task, state := range want {
		if got[task].State != state {
			t.Errorf("%s = %s, want %s", task, got[task].State, state)
		}
	}
	if run.State != store.RunFailed {
		t.Errorf("run = %s, want failed (a leaf failed)", run.State)
	}
}

func TestRetriesThenSuccessKeepsALogPerTry(t *testing.T) {
	e := newEnv(t, map[string]string{"retry.hcl": `
dag "retry" {
  task "flaky" {
    command = "echo try $AIRD_CTX_TRY_NUMBER; [ $AIRD_CTX_TRY_NUMBER -ge 3 ]"
    retries = 3
    retry_delay = "50ms"
    retry_exponential_backoff = true
  }
}`})
	run := e.runToCompletion("retry", nil)
	ti := e.tis("retry", run.RunID)["flaky"]
	if run.State != store.RunSuccess || ti.State != store.TISuccess || ti.TryNumber != 3 {
		t.Fatalf("run %s, task %s on try %d; want success on try 3", run.State, ti.State, ti.TryNumber)
	}
	logs, _ := filepath.Glob(filepath.Join(e.logDir, "retry", "*", "flaky.*.log"))
	if len(logs) != 3 {
		t.Fatalf("log files %v, want one per try", logs)
	}
	sort.Strings(logs)
	b, _ := os.ReadFile(logs[1])
	if !strings.Contains(string(b), "try 2") || !strings.Contains(string(b), "up_for_retry") {
		t.Errorf("second try's log lacks its output/outcome:\n%s", b)
	}
}

func TestRetriesExhaustedFailsRun(t *testing.T) {
	e := newEnv(t, map[string]string{"fail.hcl": `
dag "fail" {
  default_args {
    retries = 1
    retry_delay = "10ms"
  }
  task "always" { command = "exit 1" }
  task "after" {
    command = "true"
    depends_on = [task.always]
  }
}`})
	run := e.runToCompletion("fail", nil)
	tis := e.tis("fail", run.RunID)
	if tis["always"].State != store.TIFailed || tis["always"].TryNumber != 2 || tis["after"].State != store.TIUpstreamFailed {
		t.Fatalf("always=%s try %d, after=%s", tis["always"].State, tis["always"].TryNumber, tis["after"].State)
	}
	if run.State != store.RunFailed {
		t.Fatalf("run = %s, want failed", run.State)
	}
}

func TestExecutionTimeoutKillsTaskIgnoringSIGTERM(t *testing.T) {
	e := newEnv(t, map[string]string{"slow.hcl": `
dag "slow" {
  task "stubborn" {
    command = "trap 'echo got TERM, ignoring' TERM; echo started; while true; do sleep 0.05; done"
    execution_timeout = "300ms"
  }
}`})
	run := e.runToCompletion("slow", nil)
	ti := e.tis("slow", run.RunID)["stubborn"]
	if ti.State != store.TIFailed {
		t.Fatalf("state = %s, want failed", ti.State)
	}
	logs, _ := filepath.Glob(filepath.Join(e.logDir, "slow", "*", "stubborn.1.log"))
	b, _ := os.ReadFile(logs[0])
	if !strings.Contains(string(b), "got TERM, ignoring") || !strings.Contains(string(b), "execution_timeout exceeded") {
		t.Fatalf("log does not show SIGTERM then kill:\n%s", b)
	}
}

func TestParamsConfAndVariablesRender(t *testing.T) {
	e := newEnv(t, map[string]string{"p.hcl": `
dag "p" {
  params = { who = "world" }
  task "hello" {
    command = "echo hello ${params.who} ${var.greeting_suffix} on ${run.ds} > $OUT"
    env = { OUT = var.out_file }
  }
}`})
	out := filepath.Join(t.TempDir(), "out.txt")
	ctx := context.Background()
	_ = e.st.SetVariable(ctx, store.Variable{Key: "greeting_suffix", Value: "!"})
	_ = e.st.SetVariable(ctx, store.Variable{Key: "out_file", Value: out})
	run := e.runToCompletion("p", map[string]any{"who": "aird"})
	b, err := os.ReadFile(out)
	if err != nil || run.State != store.RunSuccess {
		t.Fatalf("run %s, read %v", run.State, err)
	}
	want := "hello aird ! on " + run.LogicalDate.UTC().Format(time.DateOnly) + "\n"
	if string(b) != want {
		t.Fatalf("output %q, want %q", b, want)
	}
}

// overlaps counts the largest number of task instances running at once.
func maxOverlap(tis map[string]store.TaskInstance) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, ti := range tis {
		edges = append(edges, edge{ti.StartDate, 1}, edge{ti.EndDate, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	cur, best := 0, 0
	for _, ed := range edges {
		cur += ed.delta
		best = max(best, cur)
	}
	return best
}

func TestPoolSlotsLimitConcurrency(t *testing.T) {
	e := newEnv(t, map[string]string{"pool.hcl": `
dag "pooled" {
  task "a" {
    command = "sleep 0.1"
    pool = "single"
  }
  task "b" {
    command = "sleep 0.1"
    pool = "single"
  }
  task "c" {
    command = "sleep 0.1"
    pool = "single"
  }
  task "free" { command = "sleep 0.1" }
}`})
	if err := e.st.SetPool(context.Background(), store.Pool{Name: "single", Slots: 1}); err != nil {
		t.Fatal(err)
	}
	run := e.runToCompletion("pooled", nil)
	tis := e.tis("pooled", run.RunID)
	free := tis["free"]
	delete(tis, "free")
	if run.State != store.RunSuccess || maxOverlap(tis) != 1 {
		t.Fatalf("run %s, pooled tasks overlapped %d at once, want 1", run.State, maxOverlap(tis))
	}
	if free.State != store.TISuccess {
		t.Fatalf("task outside the pool: %s", free.State)
	}
}

func TestMaxActiveTasksAndPriority(t *testing.T) {
	e := newEnv(t, map[string]string{"m.hcl": `
dag "m" {
  max_active_tasks = 1
  task "low" {
    command = "sleep 0.05"
    priority_weight = 1
  }
  task "high" {
    command = "sleep 0.05"
    priority_weight = 50
  }
  task "mid" {
    command = "sleep 0.05"
    priority_weight = 10
  }
}`})
	run := e.runToCompletion("m", nil)
	tis := e.tis("m", run.RunID)
	if maxOverlap(tis) != 1 {
		t.Fatalf("max_active_tasks=1 but %d ran at once", maxOverlap(tis))
	}
	if !(tis["high"].StartDate.Before(tis["mid"].StartDate) && tis["mid"].StartDate.Before(tis["low"].StartDate)) {
		t.Fatalf("not in priority order: high %v mid %v low %v", tis["high"].StartDate, tis["mid"].StartDate, tis["low"].StartDate)
	}
}

func TestCatchupCreatesEveryIntervalWithinMaxActiveRuns(t *testing.T) {
	e := newEnv(t, map[string]string{"daily.hcl": `
dag "daily" {
  schedule = "@daily"
  timezone = "Asia/Seoul"
  start_date = "2024-03-01"
  end_date = "2024-03-05"
  catchup = true
  max_active_runs = 2
  task "t" { command = "sleep 0.05" }
}`})
	r := e.start(false)
	eventually(t, "5 successful runs", func() bool {
		_, n, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "daily", States: []store.RunState{store.RunSuccess}})
		return n == 5
	})
	r.stop()
	runs, _, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "daily"})
	seoul, _ := time.LoadLocation("Asia/Seoul")
	spans := map[string]store.TaskInstance{}
	for i, run := range runs {
		want := time.Date(2024, 3, 1+i, 0, 0, 0, 0, seoul)
		if !run.LogicalDate.Equal(want) || !run.DataIntervalEnd.Equal(want.AddDate(0, 0, 1)) {
			t.Errorf("run %d: logical %v interval end %v, want %v", i, run.LogicalDate, run.DataIntervalEnd, want)
		}
		spans[run.RunID] = store.TaskInstance{StartDate: run.StartDate, EndDate: run.EndDate}
	}
	if len(runs) != 5 || maxOverlap(spans) > 2 {
		t.Fatalf("%d runs, %d at once; want 5 runs, at most 2 at once", len(runs), maxOverlap(spans))
	}
}

func TestNoCatchupRunsOnlyLatestInterval(t *testing.T) {
	e := newEnv(t, map[string]string{"nc.hcl": `
dag "nocatchup" {
  schedule = "0 0 * * *"
  start_date = "2020-01-01"
  task "t" { command = "true" }
}`})
	r := e.start(false)
	eventually(t, "one finished run", func() bool {
		_, n, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "nocatchup", States: []store.RunState{store.RunSuccess}})
		return n == 1
	})
	r.stop()
	runs, n, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "nocatchup"})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if n != 1 || !runs[0].DataIntervalEnd.Equal(today) {
		t.Fatalf("runs %d, first interval end %v; want one run ending %v", n, runs[0].DataIntervalEnd, today)
	}
}

func TestPausedDAGGetsNoRuns(t *testing.T) {
	e := newEnv(t, map[string]string{"p.hcl": `
dag "paused" {
  schedule = "@hourly"
  start_date = "2020-01-01"
  task "t" { command = "true" }
}
dag "active" {
  schedule = "@hourly"
  start_date = "2020-01-01"
  task "t" { command = "true" }
}`})
	r := e.start(true)
	if err := e.st.SetDAGPaused(context.Background(), "active", false); err != nil {
		t.Fatal(err)
	}
	r.sched.Notify()
	eventually(t, "a run of the unpaused DAG", func() bool {
		_, n, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "active", States: []store.RunState{store.RunSuccess}})
		return n == 1
	})
	r.stop()
	if _, n, _ := e.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "paused"}); n != 0 {
		t.Fatalf("paused DAG got %d runs", n)
	}
}

func TestBackfillRunsEachIntervalOnce(t *testing.T) {
	e := newEnv(t, map[string]string{"b.hcl": `
dag "bf" {
  schedule = "0 6 * * *"
  start_date = "2024-01-01"
  task "t" { command = "echo ${run.ds}" }
}`})
	ctx := context.Background()
	q := queue.NewLocal()
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, err := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 3, 23, 0, 0, 0, time.UTC)
	runs, err := scheduler.Backfill(ctx, e.st, bag.DAGs["bf"], from, to)
	if err != nil || len(runs) != 3 {
		t.Fatalf("backfill created %d runs (%v), want 3", len(runs), err)
	}
	e.runOnly(s, q, runs)
	for _, r := range runs {
		if got := e.run("bf", r.RunID); got.State != store.RunSuccess || got.LogicalDate.Hour() != 6 || got.RunType != store.RunBackfill {
			t.Errorf("run %s: %s at %v (%s)", r.RunID, got.State, got.LogicalDate, got.RunType)
		}
	}
	again, err := scheduler.Backfill(ctx, e.st, bag.DAGs["bf"], from, to)
	if err != nil || len(again) != 0 {
		t.Fatalf("second backfill created %d runs (%v), want 0", len(again), err)
	}
}

func TestInvalidDAGFileDoesNotStopOthers(t *testing.T) {
	e := newEnv(t, map[string]string{
		"good.hcl": `dag "good" {
  task "t" { command = "true" }
}`,
		"bad.hcl": `dag "bad" {
  schedule = "not a cron"
  task "t" { command = "true" }
}`,
	})
	run := e.runToCompletion("good", nil)
	if run.State != store.RunSuccess {
		t.Fatalf("good DAG run = %s", run.State)
	}
	errs, err := e.st.ListImportErrors(context.Background())
	if err != nil || len(errs) != 1 || !strings.HasSuffix(errs[0].Filename, "bad.hcl") || !strings.Contains(errs[0].Message, "bad.hcl:2") {
		t.Fatalf("import errors = %+v (%v), want bad.hcl with its line", errs, err)
	}
}

func TestOrphanedTasksOfDeadSchedulerAreRecovered(t *testing.T) {
	e := newEnv(t, map[string]string{"o.hcl": `
dag "o" {
  task "t" { command = "true" }
}`})
	ctx := context.Background()
	q := queue.NewLocal()
	s := scheduler.New(e.cfg, e.st, q, e.logger())
	bag, _ := scheduler.NewDAGFolder(e.dir, false).Load(ctx, s)
	run, _ := scheduler.Trigger(ctx, e.st, bag.DAGs["o"], time.Time{}, nil)
	// A previous scheduler on this host, now dead, had the task running.
	dead, _ := e.st.StartJob(ctx, store.Job{JobType: "scheduler", State: "running", Hostname: "test", PID: deadPID(t), LatestHeartbeat: time.Now()})
	_, err := e.st.UpdateTaskInstance(ctx, store.TIKey{DagID: "o", RunID: run.RunID, TaskID: "t"}, func(ti *store.TaskInstance) error {
		ti.State, ti.TryNumber, ti.QueuedByJobID = store.TIRunning, 1, dead.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.st.UpdateDagRun(ctx, "o", run.RunID, func(r *store.DagRun) error { r.State = store.RunRunning; return nil })
	e.runOnly(s, q, []store.DagRun{run})
	ti := e.tis("o", run.RunID)["t"]
	if ti.State != store.TISuccess || ti.TryNumber != 2 || ti.MaxTries != 1 {
		t.Fatalf("recovered task: %s try %d max %d; want success on try 2 with the lost try not charged", ti.State, ti.TryNumber, ti.MaxTries)
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return pid
}
