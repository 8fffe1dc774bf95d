package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

type dagList struct {
	DAGs  []dagJSON `json:"dags"`
	Total int       `json:"total_entries"`
}

func dagIDs(l dagList) []string {
	var ids []string
	for _, d := range l.DAGs {
		ids = append(ids, d.DagID)
	}
	return ids
}

func TestListDAGs(t *testing.T) {
	e := newEnv(t)
	l := decode[dagList](t, e.as("viewer", "GET", "/api/v1/dags", nil))
	if l.Total != 2 || !slices.Equal(dagIDs(l), []string{"example", "manual"}) {
		t.Fatalf("dags %v total %d", dagIDs(l), l.Total)
	}
	ex := l.DAGs[0]
	if ex.ScheduleInterval == nil || ex.ScheduleInterval.Value != "@daily" || ex.ScheduleInterval.Type != "CronExpression" ||
		len(ex.Tags) != 2 || ex.Tags[0].Name != "example" || ex.IsPaused || !ex.IsActive || ex.Description == nil ||
		time.Time(ex.LastParsedTime).IsZero() || ex.Fileloc != filepath.Join(e.dir, "example.hcl") {
		t.Fatalf("example: %+v", ex)
	}
	if l.DAGs[1].ScheduleInterval != nil {
		t.Fatal("a manual DAG has schedule_interval null")
	}
	for q, want := range map[string][]string{
		"?tags=team-b":                    {"manual"},
		"?tags=team-a&tags=team-b":        {"example", "manual"},
		"?dag_id_pattern=XAM":             {"example"},
		"?paused=true":                    nil,
		"?paused=false":                   {"example", "manual"},
		"?order_by=-dag_id":               {"manual", "example"},
		"?limit=1":                        {"example"},
		"?limit=1&offset=1":               {"manual"},
		"?offset=5":                       nil,
		"?only_active=false&limit=100000": {"example", "manual"},
	} {
		got := decode[dagList](t, e.as("viewer", "GET", "/api/v1/dags"+q, nil))
		if !slices.Equal(dagIDs(got), want) {
			t.Errorf("%s: %v, want %v", q, dagIDs(got), want)
		}
		if q == "?limit=1" && got.Total != 2 {
			t.Errorf("total_entries %d with a limit, want 2", got.Total)
		}
	}
	for q, msg := range map[string]string{
		"?limit=0": "limit", "?limit=x": "limit", "?offset=-1": "offset", "?paused=maybe": "paused", "?order_by=owner": "order_by",
	} {
		expectProblem(t, e.as("viewer", "GET", "/api/v1/dags"+q, nil), 400, msg)
	}
}

func TestOnlyActiveHidesDAGsWhoseFileIsGone(t *testing.T) {
	e := newEnv(t)
	if err := os.Remove(filepath.Join(e.dir, "manual.hcl")); err != nil {
		t.Fatal(err)
	}
	e.loadDAGs()
	if got := dagIDs(decode[dagList](t, e.as("viewer", "GET", "/api/v1/dags", nil))); !slices.Equal(got, []string{"example"}) {
		t.Fatalf("active: %v", got)
	}
	if got := dagIDs(decode[dagList](t, e.as("viewer", "GET", "/api/v1/dags?only_active=false", nil))); len(got) != 2 {
		t.Fatalf("all: %v", got)
	}
}

func TestGetDAGAndNextRun(t *testing.T) {
	e := newEnv(t)
	d := decode[dagJSON](t, e.as("viewer", "GET", "/api/v1/dags/example", nil))
	// @daily without catchup and no runs yet: the latest complete interval
	// is due, a day long, at a midnight.
	got := time.Time(d.NextDagrun)
	if got.IsZero() || !got.Equal(got.Truncate(24*time.Hour)) || time.Time(d.NextDagrunCreateAfter).Sub(got) != 24*time.Hour || got.After(time.Now()) {
		t.Fatalf("next_dagrun %v create_after %v", got, time.Time(d.NextDagrunCreateAfter))
	}
	if d.MaxActiveRuns != 16 || d.HasImportErrors {
		t.Fatalf("%+v", d)
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/nope", nil), 404, "nope")
}

func TestPatchDAGPauses(t *testing.T) {
	e := newEnv(t)
	w := e.as("user", "PATCH", "/api/v1/dags/example?update_mask=is_paused", map[string]any{"is_paused": true})
	expect(t, w, 200)
	if !decode[dagJSON](t, w).IsPaused {
		t.Fatal("answer not paused")
	}
	if d, _ := e.st.GetDAG(context.Background(), "example"); !d.IsPaused {
		t.Fatal("store not paused")
	}
	if ev := e.events("api.patch_dag"); len(ev) != 1 || ev[0].DagID != "example" || ev[0].Owner != "user" {
		t.Fatalf("events %+v", ev)
	}
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/example?update_mask=description", map[string]any{"is_paused": true}), 400, "is_paused")
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/example", map[string]any{}), 400, "is_paused is required")
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/example", map[string]any{"is_paused": "yes"}), 400, "is_paused")
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/example", `{"is_paused": true`), 400, "not valid JSON")
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/example", map[string]any{"is_paused": true, "owner": "x"}), 400, `"owner"`)
	expectProblem(t, e.as("user", "PATCH", "/api/v1/dags/nope", map[string]any{"is_paused": true}), 404, "nope")
}

type dagDetails struct {
	DagID    string `json:"dag_id"`
	Timezone string `json:"timezone"`
	Params   map[string]struct {
		Value any `json:"value"`
	} `json:"params"`
}

type taskList struct {
	Tasks []taskJSON `json:"tasks"`
	Total int        `json:"total_entries"`
}

func TestDAGDetailsAndTasks(t *testing.T) {
	e := newEnv(t)
	det := decode[dagDetails](t, e.as("viewer", "GET", "/api/v1/dags/example/details", nil))
	if det.DagID != "example" || det.Timezone != "UTC" || det.Params["table"].Value != "events" || det.Params["rows"].Value != float64(10) {
		t.Fatalf("details %+v", det)
	}
	tasks := decode[taskList](t, e.as("viewer", "GET", "/api/v1/dags/example/tasks", nil))
	if tasks.Total != 3 || tasks.Tasks[0].TaskID != "extract" || !slices.Equal(tasks.Tasks[0].DownstreamTaskIDs, []string{"transform"}) {
		t.Fatalf("tasks %+v", tasks)
	}
	tr := decode[taskJSON](t, e.as("viewer", "GET", "/api/v1/dags/example/tasks/transform", nil))
	if tr.Retries != 2 || tr.RetryDelay == nil || tr.RetryDelay.Seconds != 300 {
		t.Fatalf("transform %+v", tr)
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/tasks/nope", nil), 404, "nope")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/nope/tasks", nil), 404, "nope")
}

type importErrorList struct {
	Errors []importErrorJSON `json:"import_errors"`
	Total  int               `json:"total_entries"`
}

func TestImportErrors(t *testing.T) {
	e := newEnv(t)
	l := decode[importErrorList](t, e.as("viewer", "GET", "/api/v1/importErrors", nil))
	want := filepath.Join(e.dir, "broken.hcl")
	if l.Total != 1 || l.Errors[0].Filename != want || l.Errors[0].ImportErrorID != 1 {
		t.Fatalf("%+v", l)
	}
	// file:line,column as the DAG loader reports it.
	if msg := l.Errors[0].StackTrace; !strings.Contains(msg, want+":") {
		t.Fatalf("stack_trace %q has no file:line", msg)
	}
	one := decode[importErrorJSON](t, e.as("viewer", "GET", "/api/v1/importErrors/1", nil))
	if one.Filename != want {
		t.Fatalf("%+v", one)
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/importErrors/2", nil), 404, "2")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/importErrors/x", nil), 400, "import_error_id")
}

func TestHasImportErrorsFlag(t *testing.T) {
	e := newEnv(t)
	err := e.st.ReplaceImportErrors(context.Background(), []store.ImportError{{Filename: filepath.Join(e.dir, "example.hcl"), Message: "boom", Timestamp: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	d := decode[dagJSON](t, e.as("viewer", "GET", "/api/v1/dags/example", nil))
	if !d.HasImportErrors {
		t.Fatalf("%+v", d)
	}
}

func TestVersion(t *testing.T) {
	e := newEnv(t)
	v := decode[map[string]any](t, e.as("viewer", "GET", "/api/v1/version", nil))
	if v["version"] != "test" {
		t.Fatalf("%v", v)
	}
	expect(t, e.as("", "GET", "/api/v1/version", nil), http.StatusUnauthorized)
}
