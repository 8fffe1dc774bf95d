package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/postgres"
)

// cluster is the distributed deployment as real processes: `aird
// scheduler` and `aird worker` processes, each with its own AIRD_HOME
// (and so its own local log folder), sharing one DAG folder, one Postgres
// database and one Redis broker.
type cluster struct {
	t     testing.TB
	dir   string
	dags  string
	dsn   string
	redis *testenv.RedisServer
	// settings is the scheduler/worker part of every role's aird.hcl.
	settings string
	st       store.Store

	mu    sync.Mutex
	procs []*proc
	n     int // processes started
	runs  int // runs triggered
}

// proc is one running aird role.
type proc struct {
	name string
	home string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

func newCluster(t testing.TB, settings string) *cluster {
	t.Helper()
	pg := testenv.Postgres(t)
	c := &cluster{t: t, dir: t.TempDir(), redis: testenv.Redis(t), dsn: pg.CreateDatabase(t), settings: settings}
	c.dags = filepath.Join(c.dir, "dags")
	check(t, os.MkdirAll(c.dags, 0o755))
	return c
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// dag writes one DAG file into the shared folder (before roles start).
func (c *cluster) dag(name, src string) {
	check(c.t, os.WriteFile(filepath.Join(c.dags, name+".hcl"), []byte(src), 0o644))
}

// newHome writes an AIRD_HOME for one process; extra overrides settings.
func (c *cluster) newHome(name, extra string) string {
	home := filepath.Join(c.dir, name)
	check(c.t, os.MkdirAll(home, 0o755))
	check(c.t, os.WriteFile(filepath.Join(home, "aird.hcl"), []byte(`
core {
  dags_folder                 = "`+c.dags+`"
  dags_are_paused_at_creation = false
  parallelism                 = 256
}
database { url = "`+c.dsn+`" }
redis {
  address = "`+c.redis.Addr+`"
  lease   = "1s"
}
`+c.settings+extra), 0o644))
	return home
}

func (c *cluster) command(home string, args ...string) *exec.Cmd {
	cmd := exec.Command(airdBin, args...)
	cmd.Env = append(os.Environ(), "AIRD_HOME="+home, "AIRD_DAGS_FOLDER=", "AIRD_REDIS_PASSWORD="+c.redis.Password)
	return cmd
}

// start runs `aird <role>` and waits until it logs startedMsg; cleanup
// kills it if it still runs.
func (c *cluster) start(role, startedMsg, extra string, args ...string) *proc {
	c.t.Helper()
	c.mu.Lock()
	c.n++
	name := fmt.Sprintf("%s%d", role, c.n)
	c.mu.Unlock()
	p := &proc{name: name, home: c.newHome(name, extra), done: make(chan struct{})}
	p.log = filepath.Join(p.home, role+".log")
	logf, err := os.Create(p.log)
	check(c.t, err)
	p.cmd = c.command(p.home, append([]string{role}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	check(c.t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	c.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	c.waitFor(name+" to start", func() bool {
		if p.exited() {
			c.t.Fatalf("%s exited during start: %v", name, p.err)
		}
		b, _ := os.ReadFile(p.log)
		return strings.Contains(string(b), startedMsg)
	})
	return p
}

func (c *cluster) scheduler() *proc {
	return c.start("scheduler", "aird scheduler started", "")
}

func (c *cluster) worker(extra string) *proc {
	return c.start("worker", "aird worker started", extra)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// wait waits for the process to exit and returns its Wait error.
func (c *cluster) wait(p *proc) error {
	c.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(60 * time.Second):
		c.t.Fatalf("%s did not exit; log:\n%s", p.name, p.logText())
		return nil
	}
}

// store opens the shared Postgres database for the test's own reads.
func (c *cluster) store() store.Store {
	c.t.Helper()
	if c.st == nil {
		st, err := postgres.Open(context.Background(), c.dsn)
		check(c.t, err)
		c.t.Cleanup(func() { st.Close() })
		c.st = st
	}
	return c.st
}

func (c *cluster) dumpLogs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "--- %s (pid %d) ---\n%s\n", p.name, p.pid(), tail(p.logText(), 4000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitFor polls an observable condition with a deadline.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	c.waitForWithin(60*time.Second, what, cond)
}

func (c *cluster) waitForWithin(d time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s\n%s", what, c.dumpLogs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// trigger creates a run with the CLI and returns its run ID. Each run
// gets its own logical date: manual run IDs have one-second resolution,
// so two triggers of a DAG within a second would collide.
func (c *cluster) trigger(dagID string) string {
	c.t.Helper()
	home := c.newHome("cli", "")
	c.mu.Lock()
	c.runs++
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, c.runs).Format("2006-01-02")
	c.mu.Unlock()
	out, err := c.command(home, "dags", "trigger", dagID, "--logical-date", date).CombinedOutput()
	if err != nil {
		c.t.Fatalf("aird dags trigger %s: %v\n%s", dagID, err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		c.t.Fatalf("unexpected trigger output %q", out)
	}
	return fields[2]
}

func (c *cluster) ti(dagID, runID, task string) store.TaskInstance {
	c.t.Helper()
	ti, err := c.store().GetTaskInstance(context.Background(), store.TIKey{DagID: dagID, RunID: runID, TaskID: task})
	check(c.t, err)
	return ti
}

func (c *cluster) runState(dagID, runID string) store.RunState {
	r, err := c.store().GetDagRun(context.Background(), dagID, runID)
	if err != nil {
		return ""
	}
	return r.State
}

func (c *cluster) waitRunSuccess(dagID, runID string) {
	c.t.Helper()
	c.waitFor("run "+runID+" to succeed", func() bool {
		s := c.runState(dagID, runID)
		if s == store.RunFailed {
			c.t.Fatalf("run %s failed\n%s", runID, c.dumpLogs())
		}
		return s == store.RunSuccess
	})
}

// taskLogs returns every local task log file of a task across all homes.
func (c *cluster) taskLogs(dagID, taskID string) []string {
	return c.allTaskLogs(dagID)[taskID]
}

// allTaskLogs maps each task of a DAG to its local task log files across
// all homes (home/logs/dag/ts/task.try.log, see logs.LocalPath).
func (c *cluster) allTaskLogs(dagID string) map[string][]string {
	found := map[string][]string{}
	_ = filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return nil
		}
		parts := strings.Split(path, string(filepath.Separator))
		if n := len(parts); n >= 4 && parts[n-4] == "logs" && parts[n-3] == dagID {
			name := strings.TrimSuffix(parts[n-1], ".log")
			if i := strings.LastIndexByte(name, '.'); i > 0 {
				found[name[:i]] = append(found[name[:i]], path)
			}
		}
		return nil
	})
	return found
}

// successLines counts "task ended … → success" lines across the logs.
func successLines(paths []string) int {
	n := 0
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, "aird: task ended:") && strings.Contains(line, "→ success") {
				n++
			}
		}
	}
	return n
}

const fastSettings = `
scheduler {
  poll_interval      = "50ms"
  heartbeat_interval = "100ms"
  parse_interval     = "1s"
}
`

// blockingDAG: the first try records its shell PID (the exec'd sleep, so
// cleanup can kill it once its worker is gone) in mark and blocks until
// release exists; any later try succeeds at once.
func blockingDAG(id, mark, release string) string {
	return `
dag "` + id + `" {
  task "work" {
    command = "if [ -f \"$MARK\" ]; then echo later try; exit 0; fi; echo $$ > \"$MARK.tmp\"; mv \"$MARK.tmp\" \"$MARK\"; while [ ! -f \"$RELEASE\" ]; do sleep 0.05; done; echo released"
    env     = { MARK = "` + mark + `", RELEASE = "` + release + `" }
  }
  task "after" {
    command    = "echo after"
    depends_on = [task.work]
  }
}
`
}

// killMarkedTask kills the task process whose PID the marker holds: a
// worker killed with SIGKILL leaves its task's process group behind.
func killMarkedTask(t testing.TB, mark string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(mark)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// TestWorkerSIGKILLRedeliversTaskExactlyOnce: a worker killed mid-task
// loses its lease; another worker gets the message, takes the running try
// over as a new, uncharged try and the task succeeds exactly once.
func TestWorkerSIGKILLRedeliversTaskExactlyOnce(t *testing.T) {
	c := newCluster(t, fastSettings+`worker {
  concurrency = 2
  kill_grace  = "200ms"
}
`)
	mark := filepath.Join(c.dir, "started")
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, filepath.Join(c.dir, "never")))
	c.scheduler()
	victim := c.worker("")
	runID := c.trigger("long")
	c.waitFor("the first try to start", func() bool { return exists(mark) })
	if ti := c.ti("long", runID, "work"); ti.State != store.TIRunning || ti.PID != victim.pid() || ti.TryNumber != 1 {
		t.Fatalf("before the kill: %s try %d pid %d, want running try 1 on pid %d", ti.State, ti.TryNumber, ti.PID, victim.pid())
	}
	must(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.wait(victim)

	killedAt := time.Now()
	rescuer := c.worker("")
	c.waitRunSuccess("long", runID)
	t.Logf("redelivered and finished %v after the kill (lease 1s)", time.Since(killedAt).Round(time.Millisecond))

	work := c.ti("long", runID, "work")
	if work.State != store.TISuccess || work.TryNumber != 2 || work.MaxTries != 1 || work.PID != rescuer.pid() {
		t.Fatalf("work: %s try %d max_tries %d pid %d; want success on try 2 by pid %d, the lost try not charged (max_tries 1)",
			work.State, work.TryNumber, work.MaxTries, work.PID, rescuer.pid())
	}
	if after := c.ti("long", runID, "after"); after.State != store.TISuccess || after.TryNumber != 1 {
		t.Fatalf("after: %s try %d", after.State, after.TryNumber)
	}
	logs := c.taskLogs("long", "work")
	if len(logs) != 2 || successLines(logs) != 1 {
		t.Fatalf("work logs %v with %d success lines; want try 1 (killed) and try 2, one success", logs, successLines(logs))
	}
	if out := rescuer.logText(); strings.Contains(out, "skipping stale task message") {
		t.Fatalf("rescuer skipped a message:\n%s", out)
	}
}

// TestWorkerSIGTERMDrainsWithinGrace: on SIGTERM a worker takes no new
// task, finishes the running one within the grace and exits 0.
func TestWorkerSIGTERMDrainsWithinGrace(t *testing.T) {
	c := newCluster(t, fastSettings+`worker {
  concurrency    = 2
  kill_grace     = "200ms"
  shutdown_grace = "60s"
}
`)
	mark, release := filepath.Join(c.dir, "started"), filepath.Join(c.dir, "release")
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, release))
	c.dag("quick", `dag "quick" {
  task "q" { command = "echo quick" }
}`)
	c.scheduler()
	w := c.worker("")
	runID := c.trigger("long")
	c.waitFor("the task to start", func() bool { return exists(mark) })

	must(t, w.cmd.Process.Signal(syscall.SIGTERM))
	// A task queued while the worker drains is not taken, though a slot is free.
	quickRun := c.trigger("quick")
	c.waitFor("the new task to be queued", func() bool {
		return c.ti("quick", quickRun, "q").State == store.TIQueued
	})
	if w.exited() {
		t.Fatalf("worker exited before its task finished: %v\n%s", w.err, w.logText())
	}
	must(t, os.WriteFile(release, nil, 0o644))
	if err := c.wait(w); err != nil {
		t.Fatalf("worker exit after drain: %v\n%s", err, w.logText())
	}
	work := c.ti("long", runID, "work")
	if work.State != store.TISuccess || work.TryNumber != 1 || work.PID != w.pid() {
		t.Fatalf("work: %s try %d pid %d; want success on try 1 by the draining worker %d", work.State, work.TryNumber, work.PID, w.pid())
	}
	if q := c.ti("quick", quickRun, "q"); q.State != store.TIQueued || q.TryNumber != 0 {
		t.Fatalf("the task queued during the drain is %s try %d; want still queued, untouched", q.State, q.TryNumber)
	}

	next := c.worker("")
	c.waitRunSuccess("long", runID)
	c.waitRunSuccess("quick", quickRun)
	if q := c.ti("quick", quickRun, "q"); q.PID != next.pid() || q.TryNumber != 1 {
		t.Fatalf("quick task ran on pid %d try %d, want %d try 1", q.PID, q.TryNumber, next.pid())
	}
	if n := successLines(c.taskLogs("long", "work")); n != 1 {
		t.Fatalf("%d success lines for work", n)
	}
}

// TestWorkerSIGTERMHandsBackAfterGrace: a task still running when the
// grace ends is stopped and handed back; another worker completes it.
func TestWorkerSIGTERMHandsBackAfterGrace(t *testing.T) {
	c := newCluster(t, fastSettings+`worker {
  concurrency    = 1
  kill_grace     = "200ms"
  shutdown_grace = "300ms"
}
`)
	mark := filepath.Join(c.dir, "started")
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, filepath.Join(c.dir, "never")))
	c.scheduler()
	w := c.worker("")
	runID := c.trigger("long")
	c.waitFor("the task to start", func() bool { return exists(mark) })

	must(t, w.cmd.Process.Signal(syscall.SIGTERM))
	if err := c.wait(w); err != nil {
		t.Fatalf("worker exit after the grace: %v\n%s", err, w.logText())
	}
	// Handed back: scheduled, or already queued again by the scheduler.
	if ti := c.ti("long", runID, "work"); ti.State != store.TIScheduled && ti.State != store.TIQueued {
		t.Fatalf("after SIGTERM past the grace the task is %s, want scheduled or queued (handed back)", ti.State)
	}
	c.waitFor("the handed-back task to be queued again", func() bool {
		return c.ti("long", runID, "work").State == store.TIQueued
	})

	next := c.worker("")
	c.waitRunSuccess("long", runID)
	work := c.ti("long", runID, "work")
	if work.State != store.TISuccess || work.TryNumber != 2 || work.MaxTries != 1 || work.PID != next.pid() {
		t.Fatalf("work: %s try %d max_tries %d pid %d; want success on try 2 (handed-back try not charged) by pid %d",
			work.State, work.TryNumber, work.MaxTries, work.PID, next.pid())
	}
	if n := successLines(c.taskLogs("long", "work")); n != 1 {
		t.Fatalf("%d success lines for work", n)
	}
}

func fanOutDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dag %q {\n  max_active_runs  = 3\n  max_active_tasks = 256\n", id)
	for i := range n {
		fmt.Fprintf(&b, "  task \"t%03d\" { command = \"true\" }\n", i)
	}
	b.WriteString("}\n")
	return b.String()
}

func (c *cluster) tis(dagID, runID string) []store.TaskInstance {
	c.t.Helper()
	tis, err := c.store().ListTaskInstances(context.Background(), store.TIFilter{DagID: dagID, RunID: runID})
	check(c.t, err)
	return tis
}

// TestRedisRestartAndOutage: tasks queued in Redis survive a restart of
// the broker (append-only file), and during an outage the scheduler and
// workers wait, then resume.
func TestRedisRestartAndOutage(t *testing.T) {
	c := newCluster(t, fastSettings+`worker { concurrency = 4 }
`)
	c.dag("fan", fanOutDAG("fan", 20))
	c.scheduler()
	// No worker yet: everything the scheduler queues waits in Redis.
	first := c.trigger("fan")
	c.waitFor("all 20 tasks queued", func() bool {
		for _, ti := range c.tis("fan", first) {
			if ti.State != store.TIQueued {
				return false
			}
		}
		return true
	})
	must(t, c.redis.Stop())
	must(t, c.redis.Start())
	w1, w2 := c.worker(""), c.worker("")
	c.waitRunSuccess("fan", first)

	// Outage with everything running.
	must(t, c.redis.Stop())
	second := c.trigger("fan")
	c.waitFor("the workers to notice the outage", func() bool {
		return strings.Contains(w1.logText(), "redis unavailable") && strings.Contains(w2.logText(), "redis unavailable")
	})
	c.waitFor("the scheduler to fail a push", func() bool {
		return strings.Contains(c.procs[0].logText(), "to redis: dial tcp")
	})
	c.waitFor("the scheduler to see the new run", func() bool { return len(c.tis("fan", second)) == 20 })
	for _, p := range c.procs {
		if p.exited() {
			t.Fatalf("%s died during the broker outage: %v\n%s", p.name, p.err, p.logText())
		}
	}
	must(t, c.redis.Start())
	c.waitRunSuccess("fan", second)
	third := c.trigger("fan")
	c.waitRunSuccess("fan", third)
	for _, p := range c.procs {
		if p.exited() {
			t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.logText())
		}
	}
	for _, run := range []string{first, second, third} {
		for _, ti := range c.tis("fan", run) {
			if ti.State != store.TISuccess {
				t.Errorf("%s %s: %s", run, ti.TaskID, ti.State)
			}
		}
	}
}

// TestTwoSchedulersNeverQueueTwice: two schedulers on one database and
// three workers run 3 runs of a 200-task fan-out; every task instance is
// queued and run exactly once.
func TestTwoSchedulersNeverQueueTwice(t *testing.T) {
	start := time.Now()
	c := newCluster(t, fastSettings+`worker { concurrency = 8 }
`)
	const n = 200
	c.dag("wide", fanOutDAG("wide", n))
	s1, s2 := c.scheduler(), c.scheduler()
	workers := []*proc{c.worker(""), c.worker(""), c.worker("")}
	runs := []string{c.trigger("wide"), c.trigger("wide"), c.trigger("wide")}
	for _, r := range runs {
		c.waitRunSuccess("wide", r)
	}
	t.Logf("%d task instances on 2 schedulers + 3 workers in %v (setup included)", 3*n, time.Since(start).Round(time.Millisecond))

	byPID := map[int]int{}
	for _, r := range runs {
		tis := c.tis("wide", r)
		if len(tis) != n {
			t.Fatalf("run %s has %d task instances", r, len(tis))
		}
		for _, ti := range tis {
			if ti.State != store.TISuccess || ti.TryNumber != 1 {
				t.Errorf("%s %s: %s try %d, want success on try 1", r, ti.TaskID, ti.State, ti.TryNumber)
			}
			byPID[ti.PID]++
		}
	}
	allLogs := c.allTaskLogs("wide")
	for i := range n {
		task := fmt.Sprintf("t%03d", i)
		logs := allLogs[task]
		if len(logs) != len(runs) || successLines(logs) != len(runs) {
			t.Errorf("%s: %d log files, %d success lines; want %d each", task, len(logs), successLines(logs), len(runs))
		}
	}
	for _, w := range workers {
		if strings.Contains(w.logText(), "skipping stale task message") {
			t.Errorf("%s got a duplicate message:\n%s", w.name, w.logText())
		}
	}
	queuedBy := map[int64]int{}
	for _, r := range runs {
		for _, ti := range c.tis("wide", r) {
			queuedBy[ti.QueuedByJobID]++
		}
	}
	t.Logf("tasks per worker pid: %v; queued per scheduler job: %v (schedulers pids %d, %d)", byPID, queuedBy, s1.pid(), s2.pid())
}

// vmRSS reads a process's resident set size from /proc/<pid>/status.
func vmRSS(tb testing.TB, pid int) int64 { return procStatus(tb, pid, "VmRSS") }

// procStatus reads one "kB" field of /proc/<pid>/status, in bytes.
func procStatus(tb testing.TB, pid int, field string) int64 {
	tb.Helper()
	return procKB(tb, fmt.Sprintf("/proc/%d/status", pid), field)
}

// procKB reads one "kB" field of a /proc file, in bytes.
func procKB(tb testing.TB, path, field string) int64 {
	tb.Helper()
	b, err := os.ReadFile(path)
	check(tb, err)
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			check(tb, err)
			return kb * 1024
		}
	}
	tb.Fatalf("no %s in %s", field, path)
	return 0
}

// BenchmarkIdleRSS starts the four long-running roles (scheduler, worker,
// webserver, flower) on Postgres and Redis with one idle DAG loaded, lets
// them settle and reports each role's VmRSS and the total:
//
//	go test ./cmd/aird/ -run '^$' -bench IdleRSS -benchtime=1x
func BenchmarkIdleRSS(b *testing.B) {
	c := newCluster(b, `
scheduler {
  poll_interval      = "1s"
  heartbeat_interval = "5s"
}
worker { concurrency = 4 }
`)
	c.dag("idle", fanOutDAG("idle", 20))
	roles := []*proc{
		c.scheduler(),
		c.worker(""),
		c.start("webserver", "webserver listening", "", "--port", "0"),
		c.start("flower", "flower listening", "", "--port", "0"),
	}
	sample := func() []int64 {
		rss := make([]int64, len(roles))
		for i, p := range roles {
			if p.exited() {
				b.Fatalf("%s exited: %v\n%s", p.name, p.err, p.logText())
			}
			rss[i] = vmRSS(b, p.pid())
		}
		return rss
	}
	total := func(rss []int64) (t int64) {
		for _, r := range rss {
			t += r
		}
		return t
	}
	// Settled: the total moved less than 1% over the last 10 samples
	// (2 s) after the scheduler and worker have heartbeaten a few times.
	var window []int64
	var rss []int64
	c.waitForWithin(2*time.Minute, "the roles' memory to settle", func() bool {
		time.Sleep(200 * time.Millisecond) // the sampling period of this observation
		rss = sample()
		window = append(window, total(rss))
		if len(window) > 10 {
			window = window[1:]
		}
		if len(window) < 10 {
			return false
		}
		lo, hi := slices.Min(window), slices.Max(window)
		return float64(hi-lo) < 0.01*float64(hi)
	})
	for b.Loop() {
		rss = sample()
	}
	const mb = 1 << 20
	for i, p := range roles {
		name := strings.TrimRight(p.name, "0123456789")
		b.ReportMetric(float64(rss[i])/mb, name+"_MB")
	}
	b.ReportMetric(float64(total(rss))/mb, "total_MB")
	// Anonymous memory (heap, stacks) vs file-backed pages (the mapped
	// binary): the part the roles could share if they were one process.
	// PSS charges each shared page to its sharers in equal parts: the
	// roles' real combined footprint on one host.
	var anon, file, pss int64
	for _, p := range roles {
		anon += procStatus(b, p.pid(), "RssAnon")
		file += procStatus(b, p.pid(), "RssFile")
		pss += procKB(b, fmt.Sprintf("/proc/%d/smaps_rollup", p.pid()), "Pss")
	}
	b.ReportMetric(float64(anon)/mb, "total_anon_MB")
	b.ReportMetric(float64(file)/mb, "total_file_MB")
	b.ReportMetric(float64(pss)/mb, "total_pss_MB")
	// The goal (< 60 MB for all roles) is the memory they take together:
	// PSS. Summing VmRSS counts the binary's shared pages once per process.
	b.Logf("idle memory of the four roles (PSS, shared pages counted once): %.1f MB (goal < 60 MB)", float64(pss)/mb)
	b.Logf("VmRSS: scheduler %.1f MB, worker %.1f MB, webserver %.1f MB, flower %.1f MB, sum %.1f MB, of which anonymous %.1f MB and file-backed (the shared aird binary) %.1f MB",
		float64(rss[0])/mb, float64(rss[1])/mb, float64(rss[2])/mb, float64(rss[3])/mb, float64(total(rss))/mb, float64(anon)/mb, float64(file)/mb)
}
