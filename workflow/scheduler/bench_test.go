package scheduler_test

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// forkExecTrue is the floor: what running `sh -c true` costs with no
// scheduler at all, n times on `workers` goroutines. It returns the
// per-process latencies and the wall time.
func forkExecTrue(b *testing.B, n, workers int) ([]time.Duration, time.Duration) {
	b.Helper()
	lat := make([]time.Duration, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				if err := exec.Command("/bin/sh", "-c", "true").Run(); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return lat, time.Since(start)
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkChainHandoff measures the gap between a task ending and its
// downstream starting along a 200-task chain of `true`, against the cost
// of one fork/exec of `true` measured in the same run.
func BenchmarkChainHandoff(b *testing.B) {
	const n = 200
	var src strings.Builder
	src.WriteString("dag \"chain\" {\n  task \"t0\" { command = \"true\" }\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&src, "  task \"t%d\" {\n    command = \"true\"\n    depends_on = [task.t%d]\n  }\n", i, i-1)
	}
	src.WriteString("}\n")
	for range b.N {
		e := newEnv(b, map[string]string{"chain.hcl": src.String()})
		e.cfg.PollInterval = time.Second // hand-off must not rely on polling
		run := e.runToCompletion("chain", nil)
		tis := e.tis("chain", run.RunID)
		var gaps []time.Duration
		for i := 1; i < n; i++ {
			gaps = append(gaps, tis[fmt.Sprintf("t%d", i)].StartDate.Sub(tis[fmt.Sprintf("t%d", i-1)].EndDate))
		}
		floor, _ := forkExecTrue(b, n, 1)
		p50, p95, fe := percentile(gaps, 0.5), percentile(gaps, 0.95), percentile(floor, 0.5)
		b.ReportMetric(ms(p50), "handoff-p50-ms")
		b.ReportMetric(ms(p95), "handoff-p95-ms")
		b.ReportMetric(ms(fe), "forkexec-p50-ms")
		b.ReportMetric(float64(p50)/float64(fe), "p50/forkexec")
		if run.State != store.RunSuccess {
			b.Fatalf("chain run %s", run.State)
		}
	}
}

// BenchmarkFanOutThroughput runs 1,000 independent `true` tasks with 16
// slots and compares tasks/s with 16 goroutines fork/exec'ing `true`.
func BenchmarkFanOutThroughput(b *testing.B) {
	const n, slots = 1000, 16
	var src strings.Builder
	fmt.Fprintf(&src, "dag \"fan\" {\n  max_active_tasks = %d\n", slots)
	for i := range n {
		fmt.Fprintf(&src, "  task \"t%d\" { command = \"true\" }\n", i)
	}
	src.WriteString("}\n")
	for range b.N {
		e := newEnv(b, map[string]string{"fan.hcl": src.String()})
		e.cfg.Parallelism, e.concurrency = slots, slots
		start := time.Now()
		run := e.runToCompletion("fan", nil)
		elapsed := time.Since(start)
		_, floor := forkExecTrue(b, n, slots)
		aird, base := float64(n)/elapsed.Seconds(), float64(n)/floor.Seconds()
		b.ReportMetric(aird, "aird-tasks/s")
		b.ReportMetric(base, "forkexec-tasks/s")
		b.ReportMetric(aird/base, "aird/forkexec")
		if run.State != store.RunSuccess {
			b.Fatalf("fan-out run %s", run.State)
		}
	}
}
