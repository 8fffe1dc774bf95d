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
	b.Run("grid-25-runs", func(b *testing.B) { measurePage(b, e, "/dags/wide/grid", `data-task="t49"`) })
	b.Run("grid-100-runs", func(b *testing.B) { measurePage(b, e, "/dags/wide/grid?runs=100", `data-task="t49"`) })
	b.Run("graph", func(b *testing.B) { measurePage(b, e, "/dags/wide/graph", `data-task="t49"`) })
}
