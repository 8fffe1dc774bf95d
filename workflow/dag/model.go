// Package dag loads DAG files (HCL) into validated DAG definitions and
// evaluates their run-time expressions when a task starts.
package dag

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// TriggerRule decides, from the states of a task's upstream tasks, whether
// it runs.
type TriggerRule string

// Trigger rules, with Airflow's names and meaning.
const (
	AllSuccess TriggerRule = "all_success"
	AllFailed  TriggerRule = "all_failed"
	AllDone    TriggerRule = "all_done"
	OneSuccess TriggerRule = "one_success"
	OneFailed  TriggerRule = "one_failed"
	NoneFailed TriggerRule = "none_failed"
)

// Defaults applied when a DAG or task does not say.
const (
	DefaultMaxActiveRuns  = 16
	DefaultMaxActiveTasks = 16
	DefaultQueue          = "default"
	DefaultPool           = "default_pool"
	DefaultRetryDelay     = 5 * time.Minute
)

// DAG is a validated DAG definition.
type DAG struct {
	ID          string
	Description string
	// ScheduleExpr is the schedule as written; empty means manual only.
	ScheduleExpr   string
	Schedule       Schedule // nil when ScheduleExpr is empty
	Location       *time.Location
	StartDate      time.Time
	EndDate        time.Time // zero: no end
	Catchup        bool
	MaxActiveRuns  int
	MaxActiveTasks int
	Tags           []string
	// Params are the DAG's default params; a run's conf overrides them.
	Params map[string]cty.Value
	// Tasks in file order; TaskIDs index them.
	Tasks []*Task
	// TaskIDs maps a task ID to its index in Tasks; filled at load. DAG
	// methods fall back to a scan when it is nil (hand-built DAGs).
	TaskIDs map[string]int
	File    string
	Range   hcl.Range // the `dag "id"` header
	// Notify are the DAG's notifier blocks (notify.go: TaskNotifiers).
	Notify Notifiers

	// funcs are the functions run-time expressions may call; shared by the
	// DAGs of one load so a render does not rebuild the table.
	funcs map[string]function.Function
}

// Task is one task of a DAG. Run-time fields (command, env, working_dir)
// stay expressions until the task starts; see Task.Render.
type Task struct {
	ID      string
	Command hcl.Expression // nil for an operator task
	// Op is the operator block of a task that runs no command, or the
	// condition block of a sensor; nil for a command task.
	Op *Operator
	// Sensor is set for a wait_for task.
	Sensor                  *Sensor
	Env                     hcl.Expression // nil when unset; an object of strings
	WorkingDir              hcl.Expression // nil when unset
	Upstream                []string       // task IDs from depends_on
	Downstream              []string       // filled by validation
	TriggerRule             TriggerRule
	Retries                 int
	RetryDelay              time.Duration
	RetryExponentialBackoff bool
	ExecutionTimeout        time.Duration // zero: none
	Pool                    string
	PoolSlots               int // slots of Pool a try holds (Airflow's pool_slots)
	Queue                   string
	PriorityWeight          int
	Range                   hcl.Range // the `task "id"` header
	// Notify are the task's own notifier blocks; SLA is its sla (zero: none).
	Notify Notifiers
	SLA    time.Duration

	// dag is the owning DAG: Render needs its timezone, ID and params.
	dag *DAG
	// upRanges[i] is where Upstream[i] is written, for diagnostics.
	upRanges []hcl.Range
	// outputRead: another task reads task.<ID>.output; set at load.
	outputRead bool
}

// Schedule yields the cron ticks of a DAG in its timezone.
type Schedule interface {
	// Next returns the first tick strictly after t.
	Next(t time.Time) time.Time
}

// Interval is a data interval [Start, End); a scheduled run for it is
// created once End has passed and has logical date Start.
type Interval struct {
	Start, End time.Time
}

// RunContext is what run-time expressions see as run.*, params.* and var.*.
type RunContext struct {
	RunID             string
	LogicalDate       time.Time
	DataIntervalStart time.Time
	DataIntervalEnd   time.Time
	// Params are the DAG params merged with the run's conf.
	Params map[string]cty.Value
	// Vars are the store variables named by the task's expressions.
	Vars map[string]string
	// Outputs are the outputs of upstream tasks by task ID, read as
	// task.<id>.output; a task that wrote none reads as "".
	Outputs map[string]string
}

// Rendered is a task's run-time fields after evaluation.
type Rendered struct {
	Command    string
	Env        map[string]string
	WorkingDir string
	// Fields are an operator block's string fields by name (url, body,
	// statement, ...); only those written are present.
	Fields map[string]string
	// Headers is an http block's headers.
	Headers map[string]string
	// Parameters are a sql block's parameters: string, int64, float64 or
	// bool, as written.
	Parameters []any
}
