package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// soakTasks is how many tasks TestSoakWorkerKills runs: AIRD_SOAK_TASKS
// (`make soak` sets 10000), else a few hundred for the normal test run.
func soakTasks(t *testing.T) int {
	v := os.Getenv("AIRD_SOAK_TASKS")
	if v == "" {
		return 300
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("AIRD_SOAK_TASKS=%q: want a positive number of tasks", v)
	}
	return n
}

// soakRunSize is the width of the soak DAG; the tasks are spread over
// runs of it.
const soakRunSize = 500

// TestSoakWorkerKills: 2 schedulers and 3 workers run soakTasks short
// tasks while a random worker is killed with SIGKILL every second or so
// and replaced. Every task instance ends in success exactly once: the store
// says success, its logs have at most one "→ success" line, in the log of
// its final try; every try after the first was a takeover of a killed
// worker's try, so none was charged (max_tries = try_number - 1 with
// retries = 0).
func TestSoakWorkerKills(t *testing.T) {
	total := soakTasks(t)
	width := min(total, soakRunSize)
	runs := (total + width - 1) / width
	c := newCluster(t, haSettings+`worker {
  concurrency = 8
  kill_grace  = "200ms"
}
`)
	c.dag("soak", soakDAG("soak", width))
	c.scheduler()
	c.scheduler()
	workers := []*proc{c.worker(""), c.worker(""), c.worker("")}
	start := time.Now()
	var runIDs []string
	for range runs {
		runIDs = append(runIDs, c.trigger("soak"))
	}

	kills := 0
	deadline := time.Now().Add(time.Duration(total)*20*time.Millisecond + 2*time.Minute)
	for !c.allSucceeded("soak", runIDs) {
		if time.Now().After(deadline) {
			t.Fatalf("the soak did not finish in time\n%s", c.dumpLogs())
		}
		// The pause is the kill rate of the soak, not a synchronisation.
		time.Sleep(time.Duration(700+rand.IntN(600)) * time.Millisecond)
		i := rand.IntN(len(workers))
		must(t, workers[i].cmd.Process.Signal(syscall.SIGKILL))
		_ = c.wait(workers[i])
		workers[i] = c.worker("")
		kills++
	}
	t.Logf("%d tasks in %d runs on 2 schedulers + 3 workers with %d worker SIGKILLs: %v",
		runs*width, runs, kills, time.Since(start).Round(time.Millisecond))

	logs := c.allTaskLogs("soak")
	retried := 0
	for _, runID := range runIDs {
		for _, ti := range c.tis("soak", runID) {
			if ti.State != store.TISuccess || ti.TryNumber < 1 || ti.MaxTries != ti.TryNumber-1 {
				t.Errorf("%s %s: %s try %d max_tries %d; want success, every extra try uncharged",
					runID, ti.TaskID, ti.State, ti.TryNumber, ti.MaxTries)
			}
			if ti.TryNumber > 1 {
				retried++
			}
			var mine []string
			for _, p := range logs[ti.TaskID] {
				if strings.Contains(p, filepath.Join(logTS(runID), ti.TaskID+".")) {
					mine = append(mine, p)
				}
			}
			// A worker killed after storing the success but before writing
			// the log's end line leaves none: at most one success line.
			if len(mine) > ti.TryNumber || successLines(mine) > 1 {
				t.Errorf("%s %s: %d logs for %d tries with %d success lines; want at most one success", runID, ti.TaskID, len(mine), ti.TryNumber, successLines(mine))
				continue
			}
			final := fmt.Sprintf("%s.%d.log", ti.TaskID, ti.TryNumber)
			hasFinal := false
			for _, p := range mine {
				hasFinal = hasFinal || filepath.Base(p) == final
				if successLines([]string{p}) == 1 && filepath.Base(p) != final {
					t.Errorf("%s %s: success logged in %s, want the final try's %s", runID, ti.TaskID, p, final)
				}
			}
			if !hasFinal {
				t.Errorf("%s %s: no log of the final try %d among %v", runID, ti.TaskID, ti.TryNumber, mine)
			}
		}
	}
	t.Logf("%d task instances needed more than one try", retried)
}

// soakDAG is n independent tasks, each a short process.
func soakDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dag %q {\n  max_active_runs  = 4\n  max_active_tasks = 256\n", id)
	for i := range n {
		fmt.Fprintf(&b, "  task \"t%04d\" { command = \"sleep 0.02\" }\n", i)
	}
	b.WriteString("}\n")
	return b.String()
}

// logTS is the {ts} folder of a run's task logs: the run ID's date part.
func logTS(runID string) string {
	_, ts, _ := strings.Cut(runID, "__")
	return ts
}

// allSucceeded reports whether every run has succeeded; a failed run ends
// the test.
func (c *cluster) allSucceeded(dagID string, runIDs []string) bool {
	c.t.Helper()
	for _, r := range runIDs {
		switch c.runState(dagID, r) {
		case store.RunFailed:
			c.t.Fatalf("run %s failed\n%s", r, c.dumpLogs())
		case store.RunSuccess:
		default:
			return false
		}
	}
	return true
}
