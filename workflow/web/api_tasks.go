package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/workflow/dag"
)

// dagDetailJSON is Airflow's DAGDetail: the DAG object plus definition
// fields.
type dagDetailJSON struct {
	dagJSON
	Timezone                  *string              `json:"timezone"`
	Catchup                   bool                 `json:"catchup"`
	Orientation               string               `json:"orientation"`
	Concurrency               int                  `json:"concurrency"`
	StartDate                 apiTime              `json:"start_date"`
	EndDate                   apiTime              `json:"end_date"`
	DagRunTimeout             *timeDelta           `json:"dag_run_timeout"`
	DocMD                     *string              `json:"doc_md"`
	Params                    map[string]paramJSON `json:"params"`
	LastParsed                apiTime              `json:"last_parsed"`
	RenderTemplateAsNativeObj bool                 `json:"render_template_as_native_obj"`
	TemplateSearchPath        []string             `json:"template_search_path"`
	IsPausedUponCreation      *bool                `json:"is_paused_upon_creation"`
}

// paramJSON is Airflow's serialized Param.
type paramJSON struct {
	Class       string          `json:"__class"`
	Value       json.RawMessage `json:"value"`
	Description *string         `json:"description"`
	Schema      map[string]any  `json:"schema"`
}

// getDAGDetails is GET /api/v1/dags/{dag_id}/details.
func (s *Server) getDAGDetails(w http.ResponseWriter, r *http.Request) {
	dagID := r.PathValue("dag_id")
	j, err := s.dagJSONFor(r.Context(), dagID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := dagDetailJSON{dagJSON: j, Orientation: "LR", Concurrency: j.MaxActiveTasks, LastParsed: j.LastParsedTime, Params: map[string]paramJSON{}}
	if def := s.definition(dagID); def != nil {
		tz := def.Location.String()
		out.Timezone, out.Catchup = &tz, def.Catchup
		out.StartDate, out.EndDate = apiTime(def.StartDate), apiTime(def.EndDate)
		for name, v := range def.Params {
			raw, err := ctyjson.Marshal(v, v.Type())
			if err != nil {
				s.fail(w, r, err)
				return
			}
			out.Params[name] = paramJSON{Class: "airflow.models.param.Param", Value: raw, Schema: map[string]any{}}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// taskJSON is Airflow's Task object, for a command task.
type taskJSON struct {
	TaskID                  string     `json:"task_id"`
	Owner                   string     `json:"owner"`
	StartDate               apiTime    `json:"start_date"`
	EndDate                 apiTime    `json:"end_date"`
	TriggerRule             string     `json:"trigger_rule"`
	ExtraLinks              []any      `json:"extra_links"`
	DependsOnPast           bool       `json:"depends_on_past"`
	WaitForDownstream       bool       `json:"wait_for_downstream"`
	Retries                 int        `json:"retries"`
	Queue                   string     `json:"queue"`
	Pool                    string     `json:"pool"`
	PoolSlots               int        `json:"pool_slots"`
	ExecutionTimeout        *timeDelta `json:"execution_timeout"`
	RetryDelay              *timeDelta `json:"retry_delay"`
	RetryExponentialBackoff bool       `json:"retry_exponential_backoff"`
	PriorityWeight          int        `json:"priority_weight"`
	WeightRule              string     `json:"weight_rule"`
	UIColor                 string     `json:"ui_color"`
	UIFgcolor               string     `json:"ui_fgcolor"`
	TemplateFields          []string   `json:"template_fields"`
	SubDag                  any        `json:"sub_dag"`
	DownstreamTaskIDs       []string   `json:"downstream_task_ids"`
	ClassRef                classRef   `json:"class_ref"`
	IsMapped                bool       `json:"is_mapped"`
}

type classRef struct {
	ModulePath string `json:"module_path"`
	ClassName  string `json:"class_name"`
}

func newTaskJSON(d *dag.DAG, t *dag.Task) taskJSON {
	return taskJSON{
		TaskID: t.ID, StartDate: apiTime(d.StartDate), EndDate: apiTime(d.EndDate), TriggerRule: string(t.TriggerRule),
		ExtraLinks: []any{}, Retries: t.Retries, Queue: t.Queue, Pool: t.Pool, PoolSlots: 1,
		ExecutionTimeout: newTimeDelta(t.ExecutionTimeout), RetryDelay: newTimeDelta(t.RetryDelay),
		RetryExponentialBackoff: t.RetryExponentialBackoff, PriorityWeight: t.PriorityWeight, WeightRule: "downstream",
		UIColor: "#fff", UIFgcolor: "#000", TemplateFields: []string{"command", "env", "working_dir"},
		DownstreamTaskIDs: append([]string{}, t.Downstream...), ClassRef: classRef{ModulePath: "aird", ClassName: "CommandOperator"},
	}
}

// listTasks is GET /api/v1/dags/{dag_id}/tasks, by task ID as in Airflow.
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	d, err := s.requireDefinition(r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tasks := slices.Clone(d.Tasks)
	slices.SortFunc(tasks, func(a, b *dag.Task) int { return strings.Compare(a.ID, b.ID) })
	items := make([]taskJSON, 0, len(tasks))
	for _, t := range tasks {
		items = append(items, newTaskJSON(d, t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": items, "total_entries": len(items)})
}

// getTask is GET /api/v1/dags/{dag_id}/tasks/{task_id}.
func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	d, err := s.requireDefinition(r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t := d.Task(r.PathValue("task_id"))
	if t == nil {
		s.fail(w, r, notFound("Task not found", "Task with id '%s' not found in DAG '%s'", r.PathValue("task_id"), d.ID))
		return
	}
	writeJSON(w, http.StatusOK, newTaskJSON(d, t))
}
