package web

import (
	"encoding/json"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// apiTime renders as Airflow does: ISO 8601 in UTC with a +00:00 offset,
// and null for the zero time.
type apiTime time.Time

func (t apiTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(tt.UTC().Format("2006-01-02T15:04:05.999999-07:00"))
}

// UnmarshalJSON reads what MarshalJSON writes (for clients and tests).
func (t *apiTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = apiTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	tt, err := time.Parse(time.RFC3339Nano, s)
	*t = apiTime(tt)
	return err
}

// timeDelta is Airflow's serialized timedelta.
type timeDelta struct {
	Type         string `json:"__type"`
	Days         int64  `json:"days"`
	Seconds      int64  `json:"seconds"`
	Microseconds int64  `json:"microseconds"`
}

func newTimeDelta(d time.Duration) *timeDelta {
	if d == 0 {
		return nil
	}
	const day = 24 * time.Hour
	return &timeDelta{Type: "TimeDelta", Days: int64(d / day), Seconds: int64(d % day / time.Second), Microseconds: int64(d % time.Second / time.Microsecond)}
}

type scheduleJSON struct {
	Type  string `json:"__type"`
	Value string `json:"value"`
}

type tagJSON struct {
	Name string `json:"name"`
}

// dagJSON is Airflow's DAG object.
type dagJSON struct {
	DagID                       string        `json:"dag_id"`
	RootDagID                   *string       `json:"root_dag_id"`
	IsPaused                    bool          `json:"is_paused"`
	IsActive                    bool          `json:"is_active"`
	IsSubdag                    bool          `json:"is_subdag"`
	LastParsedTime              apiTime       `json:"last_parsed_time"`
	DefaultView                 string        `json:"default_view"`
	Fileloc                     string        `json:"fileloc"`
	Owners                      []string      `json:"owners"`
	Description                 *string       `json:"description"`
	ScheduleInterval            *scheduleJSON `json:"schedule_interval"`
	TimetableDescription        *string       `json:"timetable_description"`
	Tags                        []tagJSON     `json:"tags"`
	MaxActiveTasks              int           `json:"max_active_tasks"`
	MaxActiveRuns               int           `json:"max_active_runs"`
	HasTaskConcurrencyLimits    bool          `json:"has_task_concurrency_limits"`
	HasImportErrors             bool          `json:"has_import_errors"`
	NextDagrun                  apiTime       `json:"next_dagrun"`
	NextDagrunDataIntervalStart apiTime       `json:"next_dagrun_data_interval_start"`
	NextDagrunDataIntervalEnd   apiTime       `json:"next_dagrun_data_interval_end"`
	NextDagrunCreateAfter       apiTime       `json:"next_dagrun_create_after"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newDAGJSON merges the store's record (paused, active, parse time) with
// the loaded definition (limits), when there is one.
func newDAGJSON(d store.DAG, def *dag.DAG, importErrorFiles map[string]bool) dagJSON {
	j := dagJSON{
		DagID: d.DagID, IsPaused: d.IsPaused, IsActive: d.IsActive, LastParsedTime: apiTime(d.LastParsedAt),
		DefaultView: "grid", Fileloc: d.FileLoc, Owners: []string{}, Description: strPtr(d.Description),
		TimetableDescription: strPtr(d.Schedule), Tags: []tagJSON{},
		MaxActiveTasks: dag.DefaultMaxActiveTasks, MaxActiveRuns: dag.DefaultMaxActiveRuns,
		HasImportErrors: importErrorFiles[d.FileLoc],
	}
	if d.Schedule != "" {
		j.ScheduleInterval = &scheduleJSON{Type: "CronExpression", Value: d.Schedule}
	}
	for _, t := range d.Tags {
		j.Tags = append(j.Tags, tagJSON{Name: t})
	}
	if def != nil {
		j.MaxActiveTasks, j.MaxActiveRuns = def.MaxActiveTasks, def.MaxActiveRuns
	}
	return j
}

// dagRunJSON is Airflow's DAGRun object.
type dagRunJSON struct {
	DagRunID               string         `json:"dag_run_id"`
	DagID                  string         `json:"dag_id"`
	LogicalDate            apiTime        `json:"logical_date"`
	ExecutionDate          apiTime        `json:"execution_date"`
	StartDate              apiTime        `json:"start_date"`
	EndDate                apiTime        `json:"end_date"`
	DataIntervalStart      apiTime        `json:"data_interval_start"`
	DataIntervalEnd        apiTime        `json:"data_interval_end"`
	LastSchedulingDecision apiTime        `json:"last_scheduling_decision"`
	RunType                string         `json:"run_type"`
	State                  string         `json:"state"`
	ExternalTrigger        bool           `json:"external_trigger"`
	Conf                   map[string]any `json:"conf"`
	Note                   *string        `json:"note"`
}

func newDagRunJSON(r store.DagRun) dagRunJSON {
	conf := r.Conf
	if conf == nil {
		conf = map[string]any{}
	}
	return dagRunJSON{
		DagRunID: r.RunID, DagID: r.DagID, LogicalDate: apiTime(r.LogicalDate), ExecutionDate: apiTime(r.LogicalDate),
		StartDate: apiTime(r.StartDate), EndDate: apiTime(r.EndDate),
		DataIntervalStart: apiTime(r.DataIntervalStart), DataIntervalEnd: apiTime(r.DataIntervalEnd),
		RunType: string(r.RunType), State: string(r.State), ExternalTrigger: r.ExternalTrigger, Conf: conf,
	}
}

// taskInstanceJSON is Airflow's TaskInstance object.
type taskInstanceJSON struct {
	TaskID         string         `json:"task_id"`
	DagID          string         `json:"dag_id"`
	DagRunID       string         `json:"dag_run_id"`
	ExecutionDate  apiTime        `json:"execution_date"`
	StartDate      apiTime        `json:"start_date"`
	EndDate        apiTime        `json:"end_date"`
	Duration       *float64       `json:"duration"`
	State          *string        `json:"state"`
	TryNumber      int            `json:"try_number"`
	MapIndex       int            `json:"map_index"`
	MaxTries       int            `json:"max_tries"`
	Hostname       string         `json:"hostname"`
	Unixname       string         `json:"unixname"`
	Pool           string         `json:"pool"`
	PoolSlots      int            `json:"pool_slots"`
	Queue          string         `json:"queue"`
	PriorityWeight int            `json:"priority_weight"`
	Operator       string         `json:"operator"`
	QueuedWhen     apiTime        `json:"queued_when"`
	PID            *int           `json:"pid"`
	ExecutorConfig string         `json:"executor_config"`
	SLAMiss        any            `json:"sla_miss"`
	RenderedFields map[string]any `json:"rendered_fields"`
	Trigger        any            `json:"trigger"`
	TriggererJob   any            `json:"triggerer_job"`
	Note           *string        `json:"note"`
}

// newTaskInstanceJSON needs the run's logical date, which Airflow reports
// as the task instance's execution_date.
func newTaskInstanceJSON(ti store.TaskInstance, logicalDate time.Time) taskInstanceJSON {
	j := taskInstanceJSON{
		TaskID: ti.TaskID, DagID: ti.DagID, DagRunID: ti.RunID, ExecutionDate: apiTime(logicalDate),
		StartDate: apiTime(ti.StartDate), EndDate: apiTime(ti.EndDate), State: tiStatePtr(ti.State),
		TryNumber: ti.TryNumber, MapIndex: -1, MaxTries: ti.MaxTries, Hostname: ti.Hostname,
		Pool: ti.Pool, PoolSlots: ti.PoolSlots, Queue: ti.Queue, PriorityWeight: ti.PriorityWeight,
		Operator: ti.Operator, QueuedWhen: apiTime(ti.QueuedAt), ExecutorConfig: "{}", RenderedFields: map[string]any{},
	}
	if d := ti.Duration(); d > 0 {
		secs := d.Seconds()
		j.Duration = &secs
	}
	if ti.PID != 0 {
		pid := ti.PID
		j.PID = &pid
	}
	return j
}

// tiStatePtr renders the none state as null, as Airflow does.
func tiStatePtr(s store.TIState) *string {
	if s == store.TINone {
		return nil
	}
	str := string(s)
	return &str
}

// tiRefJSON is Airflow's TaskInstanceReference, what clear and set-state
// answer with.
type tiRefJSON struct {
	TaskID        string  `json:"task_id"`
	DagID         string  `json:"dag_id"`
	DagRunID      string  `json:"dag_run_id"`
	ExecutionDate apiTime `json:"execution_date"`
}
