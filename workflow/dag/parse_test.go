package dag

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// plainTask drops what DeepEqual cannot usefully compare (expressions,
// back-pointers, source ranges); those are checked separately.
func plainTask(t *Task) Task {
	c := *t
	c.Command, c.Env, c.WorkingDir = nil, nil, nil
	c.dag, c.upRanges, c.Range = nil, nil, hcl.Range{}
	return c
}

func TestParseFileExample(t *testing.T) {
	d := mustParseOne(t, exampleSrc)
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", d.ID, "etl_daily"},
		{"Description", d.Description, "Extract, transform, load"},
		{"ScheduleExpr", d.ScheduleExpr, "0 2 * * *"},
		{"Schedule set", d.Schedule != nil, true},
		{"Location", d.Location.String(), "Asia/Seoul"},
		{"StartDate", d.StartDate, time.Date(2024, 1, 1, 0, 0, 0, 0, seoul)},
		{"EndDate", d.EndDate, time.Date(2024, 12, 31, 0, 0, 0, 0, seoul)},
		{"Catchup", d.Catchup, false},
		{"MaxActiveRuns", d.MaxActiveRuns, 1},
		{"MaxActiveTasks", d.MaxActiveTasks, 8},
		{"Tags", d.Tags, []string{"etl"}},
		{"params.table", d.Params["table"].Equals(cty.StringVal("events")).True(), true},
		{"params.limit", d.Params["limit"].Equals(cty.NumberIntVal(10)).True(), true},
		{"len(Params)", len(d.Params), 2},
		{"File", d.File, "test.hcl"},
		{"Range", d.Range.String(), "test.hcl:1,1-16"},
		{"TaskIDs", d.TaskIDs, map[string]int{"extract": 0, "load": 1}},
		{"extract.Range", d.Tasks[0].Range.Start.Line, 17},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	wantTasks := []Task{{
		ID: "extract", Downstream: []string{"load"}, TriggerRule: AllSuccess,
		Retries: 2, RetryDelay: 30 * time.Second, ExecutionTimeout: 10 * time.Minute,
		Pool: DefaultPool, PoolSlots: 1, Queue: DefaultQueue, PriorityWeight: 1,
	}, {
		ID: "load", Upstream: []string{"extract"}, TriggerRule: AllSuccess,
		Retries: 3, RetryDelay: time.Minute, RetryExponentialBackoff: true, ExecutionTimeout: time.Hour,
		Pool: "db", PoolSlots: 1, Queue: "default", PriorityWeight: 10,
	}}
	if len(d.Tasks) != len(wantTasks) {
		t.Fatalf("got %d tasks, want %d", len(d.Tasks), len(wantTasks))
	}
	for i, want := range wantTasks {
		if got := plainTask(d.Tasks[i]); !reflect.DeepEqual(got, want) {
			t.Errorf("task %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if d.Tasks[0].Env == nil || d.Tasks[0].WorkingDir == nil || d.Tasks[1].Env != nil {
		t.Error("env/working_dir expressions not kept as written")
	}
}

func TestParseFileDefaults(t *testing.T) {
	d := mustParseOne(t, `dag "manual" {
  task "only" { command = "true" }
}`)
	if d.Schedule != nil || d.ScheduleExpr != "" || d.Location != time.UTC || d.Catchup {
		t.Errorf("schedule defaults: %q %v %v %v", d.ScheduleExpr, d.Schedule, d.Location, d.Catchup)
	}
	if d.MaxActiveRuns != DefaultMaxActiveRuns || d.MaxActiveTasks != DefaultMaxActiveTasks {
		t.Errorf("max active = %d/%d", d.MaxActiveRuns, d.MaxActiveTasks)
	}
	want := Task{ID: "only", TriggerRule: AllSuccess, RetryDelay: DefaultRetryDelay,
		Pool: DefaultPool, PoolSlots: 1, Queue: DefaultQueue, PriorityWeight: 1}
	if got := plainTask(d.Tasks[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("task defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseFileNullMeansDefault(t *testing.T) {
	d := mustParseOne(t, `dag "n" {
  schedule   = null
  timezone   = null
  start_date = "2024-01-01T06:30:00+09:00"
  task "a" {
    command = "true"
    retries = null
  }
}`)
	if d.Schedule != nil || d.Tasks[0].Retries != 0 {
		t.Errorf("null not treated as unset: %v %d", d.Schedule, d.Tasks[0].Retries)
	}
	if want := time.Date(2023, 12, 31, 21, 30, 0, 0, time.UTC); !d.StartDate.Equal(want) {
		t.Errorf("StartDate = %v, want %v", d.StartDate, want)
	}
}

func TestParseFileMultipleDAGs(t *testing.T) {
	dags := mustParse(t, `
dag "a" {
  task "x" { command = "true" }
}
dag "b" {
  schedule   = "@hourly"
  start_date = "2024-01-01T00:00:00"
  task "x" { command = "true" }
}
`)
	if len(dags) != 2 || dags[0].ID != "a" || dags[1].ID != "b" {
		t.Fatalf("got %v", dags)
	}
}

// TestParseFileErrors checks each validation error's message and position.
// Sources are laid out so the expected line:col can be read off them.
func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, src       string
		summary, detail string
		line, col       int
	}{
		{"syntax", `dag "a" {
  task "x" {
}`, "Unclosed configuration block", "There is no closing brace for this block", 1, 9},
		{"unknown attribute", `dag "a" {
  colour = "red"
}`, "Unsupported argument", `"colour" is not expected`, 2, 3},
		{"unknown block", `dag "a" {
  sensor "s" {}
}`, "Unsupported block type", `Blocks of type "sensor" are not expected here.`, 2, 3},
		{"unknown top-level block", `pipeline "a" {}`, "Unsupported block type", "", 1, 1},
		{"wrong type", `dag "a" {
  catchup = "maybe"
}`, "Incorrect attribute value type", `attribute "catchup": a bool is required`, 2, 13},
		{"wrong list type", `dag "a" {
  tags = "etl"
}`, "Incorrect attribute value type", `attribute "tags": list of string required`, 2, 10},
		{"params not object", `dag "a" {
  params = ["x"]
}`, "Incorrect attribute value type", "an object is required", 2, 12},
		{"bad cron", `dag "a" {
  schedule   = "61 * * * *"
  start_date = "2024-01-01"
}`, "Invalid schedule", `"61 * * * *" is not a 5-field cron expression`, 2, 16},
		{"six-field cron", `dag "a" {
  schedule   = "0 0 2 * * *"
  start_date = "2024-01-01"
}`, "Invalid schedule", "expected exactly 5 fields", 2, 16},
		{"@every", `dag "a" {
  schedule   = "@every 1h"
  start_date = "2024-01-01"
}`, "Invalid schedule", "@every is not supported", 2, 16},
		{"never fires", `dag "a" {
  schedule   = "0 0 30 2 *"
  start_date = "2024-01-01"
}`, "Invalid schedule", "never fires", 2, 16},
		{"unknown timezone", `dag "a" {
  timezone = "Mars/Olympus_Mons"
}`, "Unknown timezone", `"Mars/Olympus_Mons" is not an IANA time zone name`, 2, 14},
		{"local timezone", `dag "a" {
  timezone = "Local"
}`, "Unknown timezone", `"Local" differs between hosts`, 2, 14},
		{"bad date", `dag "a" {
  start_date = "01/02/2024"
}`, "Invalid date", `start_date "01/02/2024" must be RFC3339`, 2, 16},
		{"start_date required", `dag "a" {
  schedule = "@daily"
}`, "Missing start_date", "A scheduled DAG needs start_date", 2, 3},
		{"end before start", `dag "a" {
  start_date = "2024-06-01"
  end_date   = "2024-05-31"
}`, "Invalid end_date", "end_date 2024-05-31T00:00:00Z is before start_date 2024-06-01T00:00:00Z", 3, 16},
		{"max_active_runs zero", `dag "a" {
  max_active_runs = 0
}`, "Invalid attribute value", `"max_active_runs" must be at least 1, got 0`, 2, 21},
		{"negative retries", `dag "a" {
  task "x" {
    command = "true"
    retries = -1
  }
}`, "Invalid attribute value", `"retries" must not be negative, got -1`, 4, 15},
		{"fractional priority", `dag "a" {
  task "x" {
    command         = "true"
    priority_weight = 1.5
  }
}`, "Invalid attribute value", `"priority_weight" must be a whole number, not 1.5`, 4, 23},
		{"bad duration", `dag "a" {
  default_args {
    retry_delay = "soon"
  }
}`, "Invalid duration", `"retry_delay" must be a duration such as "30s"`, 3, 19},
		{"negative duration", `dag "a" {
  task "x" {
    command           = "true"
    execution_timeout = "-5m"
  }
}`, "Invalid duration", `"execution_timeout" must not be negative`, 4, 25},
		{"bad trigger rule", `dag "a" {
  task "x" {
    command      = "true"
    trigger_rule = "all_sucess"
  }
}`, "Invalid trigger rule", `Unknown trigger_rule "all_sucess"; use one of all_success, all_failed`, 4, 20},
		{"empty pool", `dag "a" {
  task "x" {
    command = "true"
    pool    = ""
  }
}`, "Invalid attribute value", `"pool" must not be empty`, 4, 15},
		{"duplicate default_args", `dag "a" {
  default_args {}
  default_args {}
}`, "Duplicate default_args block", "the first is at test.hcl:2,3-15", 3, 3},
		{"missing command", `dag "a" {
  task "x" {}
}`, "Missing required argument", `"command" is required`, 2, 12},
		{"invalid dag id", `dag "etl daily!" {}`, "Invalid dag ID", `DAG ID "etl daily!" must be 1 to 250 characters`, 1, 5},
		{"invalid task id", `dag "a" {
  task "x/y" { command = "true" }
}`, "Invalid task ID", `Task ID "x/y" must be`, 2, 8},
		{"duplicate task", `dag "a" {
  task "x" { command = "true" }
  task "x" { command = "false" }
}`, "Duplicate task ID", `Task "x" is already defined at test.hcl:2,3-11`, 3, 8},
		{"duplicate dag", `dag "a" {}
dag "a" {}`, "Duplicate dag ID", `DAG "a" is already defined at test.hcl:1,1-8`, 2, 5},
		{"depends_on string", `dag "a" {
  task "x" { command = "true" }
  task "y" {
    command    = "true"
    depends_on = ["x"]
  }
}`, "Invalid dependency", "must be a task reference such as task.extract", 5, 19},
		{"depends_on not a list", `dag "a" {
  task "x" { command = "true" }
  task "y" {
    command    = "true"
    depends_on = task.x
  }
}`, "Invalid expression", "A static list expression is required", 5, 18},
		{"duplicate dependency", `dag "a" {
  task "x" { command = "true" }
  task "y" {
    command    = "true"
    depends_on = [task.x, task.x]
  }
}`, "Duplicate dependency", "task.x is already listed at test.hcl:5,19-25", 5, 27},
		{"dangling dependency", `dag "a" {
  task "extract" { command = "true" }
  task "load" {
    command    = "true"
    depends_on = [task.extrct]
  }
}`, "Reference to undeclared task", `Task "load" depends on task "extrct", which DAG "a" does not define. Did you mean "extract"?`, 5, 19},
		{"self dependency", `dag "a" {
  task "x" {
    command    = "true"
    depends_on = [task.x]
  }
}`, "Dependency cycle", `Task "x" depends on itself.`, 4, 19},
		{"cycle", `dag "a" {
  task "a" {
    command    = "true"
    depends_on = [task.c]
  }
  task "b" {
    command    = "true"
    depends_on = [task.a]
  }
  task "c" {
    command    = "true"
    depends_on = [task.b]
  }
  task "d" {
    command    = "true"
    depends_on = [task.a]
  }
}`, "Dependency cycle", `Tasks "a", "c", "b" form a cycle: "a" depends on "c", which depends on "b", which depends on "a".`, 8, 19},
		{"variable in static attribute", `dag "a" {
  description = "for ${run.ds}"
}`, "Variables not allowed", "Variables may not be used here.", 2, 24},
		{"unknown variable", `dag "a" {
  task "x" {
    command = "echo ${env.HOME}"
  }
}`, "Unknown variable", `There is no variable named "env"; run-time expressions can use run, params, var and task.`, 3, 23},
		{"unknown run attribute", `dag "a" {
  task "x" {
    command = "echo ${run.dss}"
  }
}`, "Unknown run attribute", `There is no run.dss; run has dag_id, data_interval_end, data_interval_start, ds, ds_nodash, id, logical_date, task_id, ts. Did you mean "ds"?`, 3, 23},
		{"unknown param", `dag "a" {
  params = { table = "events" }
  task "x" {
    env     = { T = params["tabel"] }
    command = "true"
  }
}`, "Unknown param", `There is no param "tabel". The DAG's params are table. Did you mean "table"?`, 4, 21},
		{"param without params", `dag "a" {
  task "x" {
    command = "echo ${params.table}"
  }
}`, "Unknown param", `This DAG declares no params.`, 3, 23},
		{"whole var object", `dag "a" {
  task "x" {
    command = jsonencode(var)
  }
}`, "Invalid variable reference", "Use var with a literal key", 3, 26},
		{"unknown function", `dag "a" {
  task "x" {
    command = uppr(run.ds)
  }
}`, "Call to unknown function", `There is no function named "uppr". Did you mean "upper"?`, 3, 15},
		{"command not a string", `dag "a" {
  task "x" {
    command = ["echo", run.ds]
  }
}`, "Invalid command", "command must be a string: string required", 3, 15},
		{"env not an object", `dag "a" {
  task "x" {
    command = "true"
    env     = "A=1"
  }
}`, "Invalid env", "env must be an object of strings", 4, 15},
		{"env value not a string", `dag "a" {
  task "x" {
    command = "true"
    env     = { A = [run.ds] }
  }
}`, "Invalid env", "env.A: string required", 4, 15},
		{"working_dir null", `dag "a" {
  task "x" {
    command     = "true"
    working_dir = null
  }
}`, "Invalid working_dir", "working_dir must not be null", 4, 19},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dags, _, diags := ParseFile("test.hcl", []byte(tc.src))
			if dags != nil {
				t.Errorf("file with errors returned %d DAGs", len(dags))
			}
			errs := errorsOf(diags)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %s", len(errs), diags.Error())
			}
			e := errs[0]
			if e.Summary != tc.summary || !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("got %q / %q\nwant %q / containing %q", e.Summary, e.Detail, tc.summary, tc.detail)
			}
			if e.Subject == nil {
				t.Fatal("no Subject range")
			}
			if e.Subject.Filename != "test.hcl" || e.Subject.Start.Line != tc.line || e.Subject.Start.Column != tc.col {
				t.Errorf("at %s, want test.hcl:%d,%d", e.Subject, tc.line, tc.col)
			}
		})
	}
}

// TestParseFileReportsAllErrors checks that independent errors are all
// reported in one pass, so fixing a file is not a one-error-at-a-time loop.
func TestParseFileReportsAllErrors(t *testing.T) {
	_, _, diags := ParseFile("test.hcl", []byte(`dag "a" {
  timezone   = "Nowhere/Land"
  start_date = "soon"
  schedule   = "nope"
  task "x" {
    command    = "echo ${run.dss}"
    retries    = -2
    depends_on = [task.nope]
  }
}`))
	var got []string
	for _, d := range errorsOf(diags) {
		got = append(got, d.Summary)
	}
	want := []string{"Unknown timezone", "Invalid date", "Invalid schedule", "Invalid attribute value", "Unknown run attribute", "Reference to undeclared task"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
