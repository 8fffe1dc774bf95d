package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// The UI pages under the sizes of issue 8's API goal (p95 < 50 ms): the
// DAG list with 1,000 DAGs and the grid of 100 runs × 50 tasks.

// measurePage times a page: the answer must be 200 and contain want.
func measurePage(b *testing.B, e *env, target, want string) {
	measureGet(b, e, target, want, 100)
}

func BenchmarkUIDAGList1000(b *testing.B) {
	e := newEnv(b)
	for i := range 1000 {
		src := fmt.Sprintf("dag \"bench_%04d\" {\n  schedule = \"@hourly\"\n  start_date = \"2024-01-01\"\n  tags = [\"bench\"]\n"+
			"  task \"a\" {\n    command = \"true\"\n  }\n}\n", i)
		if err := os.WriteFile(filepath.Join(e.dir, fmt.Sprintf("bench_%04d.hcl", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	e.loadDAGs()
	b.Run("first-page", func(b *testing.B) { measurePage(b, e, "/dags", "Page 1 of 11") })
	b.Run("search", func(b *testing.B) { measurePage(b, e, "/dags?q=bench_00", "bench_0099") })
}

func BenchmarkUIGrid100Runs50Tasks(b *testing.B) {
	e := wideEnv(b)
	b.Run("grid-25-runs", func(b *testing.B) { measurePage(b, e, "/dags/wide/grid", `data-task="t49"`) })
	b.Run("grid-100-runs", func(b *testing.B) { measurePage(b, e, "/dags/wide/grid?runs=100", `data-task="t49"`) })
	b.Run("graph", func(b *testing.B) { measurePage(b, e, "/dags/wide/graph", `data-task="t49"`) })
}

// BenchmarkGridQuery compares the grid's read of 100 runs × 50 tasks
// (ListTIStatuses: four columns, unsorted) with reading the same task
// instances whole through ListTaskInstances, as the grid did before; it
// reports full-rows time / statuses time.
func BenchmarkGridQuery(b *testing.B) {
	e := wideEnv(b)
	ctx := context.Background()
	runs, _, err := e.st.ListDagRuns(ctx, store.DagRunFilter{DagID: "wide"})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.RunID
	}
	timeIt := func(n int, fn func() int) time.Duration {
		start := time.Now()
		for range n {
			if got := fn(); got != 5000 {
				b.Fatalf("read %d task instances, want 5000", got)
			}
		}
		return time.Since(start)
	}
	statuses := func() int {
		l, err := e.st.ListTIStatuses(ctx, "wide", ids)
		if err != nil {
			b.Fatal(err)
		}
		return len(l)
	}
	full := func() int {
		l, err := e.st.ListTaskInstances(ctx, store.TIFilter{DagID: "wide"})
		if err != nil {
			b.Fatal(err)
		}
		return len(l)
	}
	var tStatuses, tFull time.Duration
	n := 0
	for b.Loop() {
		tStatuses += timeIt(1, statuses)
		tFull += timeIt(1, full)
		n++
	}
	for ; n < 20; n++ { // -benchtime 1x says little on its own
		tStatuses += timeIt(1, statuses)
		tFull += timeIt(1, full)
	}
	b.ReportMetric(float64(tStatuses.Microseconds())/float64(n)/1000, "statuses-ms")
	b.ReportMetric(float64(tFull.Microseconds())/float64(n)/1000, "full-rows-ms")
	b.ReportMetric(float64(tFull)/float64(tStatuses), "full/statuses")
}

// wideEnv holds DAG "wide" (50 tasks) with 100 successful runs.
func wideEnv(b *testing.B) *env {
	e := newEnv(b)
	var src strings.Builder
	src.WriteString("dag \"wide\" {\n")
	for i := range 50 {
		fmt.Fprintf(&src, "  task \"t%02d\" {\n    command = \"true\"\n", i)
		if i > 0 {
			fmt.Fprintf(&src, "    depends_on = [task.t%02d]\n", (i-1)/2)
		}
		src.WriteString("  }\n")
	}
	src.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(e.dir, "wide.hcl"), []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	e.loadDAGs()
	d := e.bag.DAGs["wide"]
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		at := start.Add(time.Duration(i) * time.Hour)
		run, tis := scheduler.NewRun(d, store.RunManual, dag.Interval{Start: at, End: at}, nil, time.Now())
		for j := range tis {
			tis[j].State, tis[j].TryNumber = store.TISuccess, 1
		}
		if _, err := e.st.CreateDagRun(context.Background(), run, tis); err != nil {
			b.Fatal(err)
		}
	}
	return e
}
