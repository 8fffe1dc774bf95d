package dag

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// exampleSrc is the reference DAG file of the format documentation.
const exampleSrc = `dag "etl_daily" {
  description      = "Extract, transform, load"
  schedule         = "0 2 * * *"
  timezone         = "Asia/Seoul"
  start_date       = "2024-01-01"
  end_date         = "2024-12-31"
  catchup          = false
  max_active_runs  = 1
  max_active_tasks = 8
  tags             = ["etl"]
  params           = { table = "events", limit = 10 }
  default_args {
    retries           = 2
    retry_delay       = "30s"
    execution_timeout = "10m"
  }
  task "extract" {
    command     = "echo extracting ${params.table} for ${run.ds}"
    env         = { TABLE = params.table }
    working_dir = "/tmp"
  }
  task "load" {
    command                   = "echo load"
    depends_on                = [task.extract]
    trigger_rule              = "all_success"
    retries                   = 3
    retry_delay               = "1m"
    retry_exponential_backoff = true
    execution_timeout         = "1h"
    pool                      = "db"
    queue                     = "default"
    priority_weight           = 10
  }
}
`

// mustParse parses src and fails the test on any diagnostic.
func mustParse(tb testing.TB, src string) []*DAG {
	tb.Helper()
	dags, _, diags := ParseFile("test.hcl", []byte(src))
	if len(diags) > 0 {
		tb.Fatalf("unexpected diagnostics: %s", diags.Error())
	}
	return dags
}

// mustParseOne parses src, which must define exactly one DAG.
func mustParseOne(tb testing.TB, src string) *DAG {
	tb.Helper()
	dags := mustParse(tb, src)
	if len(dags) != 1 {
		tb.Fatalf("got %d DAGs, want 1", len(dags))
	}
	return dags[0]
}

// errorsOf returns only the error diagnostics.
func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// genDAGFile returns a realistic DAG file with the given number of tasks
// in a chain with a fan-in every third task, using params, run and var.
func genDAGFile(i, tasks int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `dag "bench_%04d" {
  description = "generated DAG %d"
  schedule    = "%d %d * * *"
  timezone    = "Europe/Berlin"
  start_date  = "2024-01-01"
  catchup     = false
  tags        = ["bench", "gen"]
  params      = { table = "events_%d", limit = %d }
  default_args {
    retries     = 2
    retry_delay = "30s"
  }
`, i, i, i%60, i%24, i, i)
	for t := range tasks {
		fmt.Fprintf(&b, "  task \"t%02d\" {\n", t)
		fmt.Fprintf(&b, "    command = \"echo step %d of ${params.table} for ${run.ds} limit ${params.limit} ${upper(var.region)}\"\n", t)
		b.WriteString("    env     = { TABLE = params.table, TS = run.ts }\n")
		switch {
		case t >= 3 && t%3 == 0:
			fmt.Fprintf(&b, "    depends_on = [task.t%02d, task.t%02d]\n", t-1, t-3)
		case t > 0:
			fmt.Fprintf(&b, "    depends_on = [task.t%02d]\n", t-1)
		}
		b.WriteString("    priority_weight = 2\n  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// writeDAGFiles writes n generated DAG files of the given task count
// under dir, spread over a few subfolders like a real repository.
func writeDAGFiles(tb testing.TB, dir string, n, tasks int) {
	tb.Helper()
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("team%d", i%10))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		path := filepath.Join(sub, fmt.Sprintf("dag_%04d.hcl", i))
		if err := os.WriteFile(path, []byte(genDAGFile(i, tasks)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// writeFiles writes name -> content files under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
