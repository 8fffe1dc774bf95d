package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

type tiList struct {
	TIs   []taskInstanceJSON `json:"task_instances"`
	Total int                `json:"total_entries"`
}

type tiRefList struct {
	TIs []tiRefJSON `json:"task_instances"`
}

func refTasks(l tiRefList) []string {
	var ids []string
	for _, r := range l.TIs {
		ids = append(ids, r.DagRunID+"/"+r.TaskID)
	}
	slices.Sort(ids)
	return ids
}

func TestTaskInstances(t *testing.T) {
	e := newEnv(t)
	run := e.trigger("example", map[string]any{"dag_run_id": "r1"})
	e.trigger("example", map[string]any{"dag_run_id": "r2", "logical_date": "2024-01-01T00:00:00Z"})
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "extract"}, store.TISuccess, 1)
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "transform"}, store.TIRunning, 1)

	ti := decode[taskInstanceJSON](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/extract", nil))
	if ti.State == nil || *ti.State != "success" || ti.TryNumber != 1 || ti.Duration == nil || ti.Pool != "default_pool" ||
		!time.Time(ti.ExecutionDate).Equal(time.Time(run.LogicalDate)) || ti.DagRunID != "r1" {
		t.Fatalf("extract %+v", ti)
	}
	for q, want := range map[string]int{
		"/r1/taskInstances":                             3,
		"/r1/taskInstances?state=success":               1,
		"/r1/taskInstances?state=none":                  1,
		"/r1/taskInstances?state=success&state=running": 2,
		"/~/taskInstances":                              6,
		"/~/taskInstances?pool=default_pool":            6,
		"/~/taskInstances?pool=other":                   0,
	} {
		l := decode[tiList](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns"+q, nil))
		if l.Total != want || len(l.TIs) != want {
			t.Errorf("%s: total %d, %d items, want %d", q, l.Total, len(l.TIs), want)
		}
	}
	// Pages partition the list with a stable order.
	all := decode[tiList](t, e.as("viewer", "GET", "/api/v1/dags/~/dagRuns/~/taskInstances", nil))
	var paged []taskInstanceJSON
	for off := 0; off < 6; off += 4 {
		l := decode[tiList](t, e.as("viewer", "GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=4&offset="+strconv.Itoa(off), nil))
		if l.Total != 6 {
			t.Fatalf("total %d", l.Total)
		}
		paged = append(paged, l.TIs...)
	}
	if len(paged) != 6 || len(all.TIs) != 6 {
		t.Fatalf("paged %d, all %d", len(paged), len(all.TIs))
	}
	for i := range paged {
		if paged[i].DagRunID != all.TIs[i].DagRunID || paged[i].TaskID != all.TIs[i].TaskID {
			t.Fatalf("page order differs at %d", i)
		}
		if time.Time(paged[i].ExecutionDate).IsZero() {
			t.Fatalf("no execution_date on %+v", paged[i])
		}
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances?state=done", nil), 400, "state")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/nope/taskInstances", nil), 404, "nope")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/nope", nil), 404, "nope")
}

func TestTaskLog(t *testing.T) {
	e := newEnv(t)
	run := e.trigger("example", map[string]any{"dag_run_id": "r1", "logical_date": "2024-05-06T07:08:09Z"})
	k := store.TIKey{DagID: "example", RunID: "r1", TaskID: "extract"}
	e.setTI(k, store.TIRunning, 1)
	f, err := logs.Create(e.logDir, k, time.Time(run.LogicalDate), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("line one\nline two ünï\n"); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/dags/example/dagRuns/r1/taskInstances/extract/logs/1"
	got := decode[map[string]string](t, e.as("viewer", "GET", path, nil))
	if got["content"] != "line one\nline two ünï\n" || got["continuation_token"] == "" {
		t.Fatalf("log %q", got)
	}
	// Following a live log: the token returns only what was written since.
	if _, err := f.WriteString("line three\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	more := decode[map[string]string](t, e.as("viewer", "GET", path+"?token="+got["continuation_token"], nil))
	if more["content"] != "line three\n" {
		t.Fatalf("continuation %q", more["content"])
	}
	full := decode[map[string]string](t, e.as("viewer", "GET", path+"?full_content=true&token="+more["continuation_token"], nil))
	if full["content"] != "line one\nline two ünï\nline three\n" {
		t.Fatalf("full %q", full["content"])
	}
	r := req("GET", path, nil)
	r.Header.Set("Accept", "text/plain")
	r.SetBasicAuth("viewer", testPasswords["viewer"])
	w := e.serve(r)
	expect(t, w, 200)
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") || w.Body.String() != full["content"] {
		t.Fatalf("text/plain %q %q", w.Header().Get("Content-Type"), w.Body.String())
	}
	// A try that has not started has no file yet: Airflow's message, 200.
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "load"}, store.TINone, 0)
	nolog := decode[map[string]string](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/load/logs/1", nil))
	if !strings.Contains(nolog["content"], "Log file does not exist") {
		t.Fatalf("missing log: %q", nolog["content"])
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/extract/logs/2", nil), 404, "try 2")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/extract/logs/0", nil), 400, "task_try_number")
	expectProblem(t, e.as("viewer", "GET", path+"?token=bm9wZQ", nil), 400, "token")
	expect(t, e.as("", "GET", path, nil), http.StatusUnauthorized)
}

func TestCompleteUTF8(t *testing.T) {
	b := []byte("aü")
	if n := completeUTF8(b[:2]); n != 1 {
		t.Fatalf("cut inside ü: %d", n)
	}
	if n := completeUTF8(b); n != 3 {
		t.Fatalf("whole: %d", n)
	}
}

// TestClearResetsTaskInstances: a failed run's failed task and its
// downstream go back to none with their retries restored, the run back to
// queued; a dry run changes nothing; only_failed (the default) spares
// successes.
func TestClearResetsTaskInstances(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "r1"})
	k := func(task string) store.TIKey { return store.TIKey{DagID: "example", RunID: "r1", TaskID: task} }
	e.setTI(k("extract"), store.TISuccess, 1)
	e.setTI(k("transform"), store.TIFailed, 3)
	e.setTI(k("load"), store.TIUpstreamFailed, 0)
	if _, err := e.st.UpdateDagRun(t.Context(), "example", "r1", func(r *store.DagRun) error {
		r.State, r.StartDate, r.EndDate = store.RunFailed, time.Now().Add(-time.Minute), time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/dags/example/clearTaskInstances"
	dry := decode[tiRefList](t, e.as("user", "POST", path, map[string]any{"dag_run_id": "r1"}))
	if got := refTasks(dry); !slices.Equal(got, []string{"r1/load", "r1/transform"}) {
		t.Fatalf("dry run: %v", got)
	}
	if e.ti("example", "r1", "transform").State != store.TIFailed || len(e.events("api.post_clear_task_instances")) != 0 {
		t.Fatal("the dry run changed something")
	}
	w := e.as("user", "POST", path, map[string]any{"dry_run": false, "dag_run_id": "r1", "task_ids": []string{"transform"}, "include_downstream": true})
	expect(t, w, 200)
	if got := refTasks(decode[tiRefList](t, w)); !slices.Equal(got, []string{"r1/load", "r1/transform"}) {
		t.Fatalf("cleared %v", got)
	}
	tr := e.ti("example", "r1", "transform")
	if tr.State != store.TINone || tr.TryNumber != 3 || tr.MaxTries != 3+2 {
		t.Fatalf("transform after clear: %s try %d max_tries %d", tr.State, tr.TryNumber, tr.MaxTries)
	}
	if s := e.ti("example", "r1", "extract").State; s != store.TISuccess {
		t.Fatalf("extract %s, want success kept", s)
	}
	if r := e.run("example", "r1"); r.State != store.RunQueued || !r.EndDate.IsZero() {
		t.Fatalf("run %s end %v", r.State, r.EndDate)
	}
	if ev := e.events("api.post_clear_task_instances"); len(ev) != 1 || ev[0].Owner != "user" {
		t.Fatalf("events %+v", ev)
	}
	// only_failed=false clears successes too; running ones never.
	e.setTI(k("load"), store.TIRunning, 1)
	w = e.as("user", "POST", path, map[string]any{"dry_run": false, "only_failed": false, "dag_run_id": "r1"})
	if got := refTasks(decode[tiRefList](t, w)); !slices.Equal(got, []string{"r1/extract", "r1/transform"}) {
		t.Fatalf("cleared %v", got)
	}
	if e.ti("example", "r1", "load").State != store.TIRunning {
		t.Fatal("a running task instance was cleared")
	}
	expectProblem(t, e.as("user", "POST", path, map[string]any{"task_ids": []string{"nope"}}), 400, "nope")
	expectProblem(t, e.as("user", "POST", path, map[string]any{"dag_run_id": "nope"}), 404, "nope")
	expectProblem(t, e.as("user", "POST", path, map[string]any{"dag_run_id": "r1", "start_date": "2024-01-01T00:00:00Z"}), 400, "either")
	expectProblem(t, e.as("user", "POST", path, map[string]any{"only_running": true}), 400, "only_running")
	expectProblem(t, e.as("user", "POST", "/api/v1/dags/nope/clearTaskInstances", map[string]any{}), 404, "nope")
	expect(t, e.as("viewer", "POST", path, map[string]any{}), 403)
}

// A sensor cleared between pokes starts its timeout afresh: the worker
// reads a set StartDate with no EndDate as "continuing from the first poke".
func TestClearSensorBetweenPokesForgetsFirstPoke(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "r1"})
	k := store.TIKey{DagID: "example", RunID: "r1", TaskID: "extract"}
	if _, err := e.st.UpdateTaskInstance(t.Context(), k, func(ti *store.TaskInstance) error {
		ti.State, ti.TryNumber = store.TIUpForReschedule, 0
		ti.StartDate, ti.NextRetryAt = time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := e.as("user", "POST", "/api/v1/dags/example/clearTaskInstances",
		map[string]any{"dry_run": false, "only_failed": false, "dag_run_id": "r1", "task_ids": []string{"extract"}})
	expect(t, w, 200)
	ti := e.ti("example", "r1", "extract")
	if ti.State != store.TINone || !ti.StartDate.IsZero() || !ti.NextRetryAt.IsZero() {
		t.Fatalf("after clear: state %q start %v next poke %v", ti.State, ti.StartDate, ti.NextRetryAt)
	}
	// The API accepts the state as a filter.
	expect(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances?state=up_for_reschedule", nil), 200)
}

func TestClearAcrossRunsByDate(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"a", "b", "c"} {
		e.trigger("example", map[string]any{"dag_run_id": id, "logical_date": time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)})
		e.setTI(store.TIKey{DagID: "example", RunID: id, TaskID: "extract"}, store.TIFailed, 1)
	}
	body := map[string]any{"task_ids": []string{"extract"}, "start_date": "2024-01-02T00:00:00Z", "end_date": "2024-01-03T00:00:00Z"}
	if got := refTasks(decode[tiRefList](t, e.as("user", "POST", "/api/v1/dags/example/clearTaskInstances", body))); !slices.Equal(got, []string{"b/extract", "c/extract"}) {
		t.Fatalf("by date: %v", got)
	}
	body = map[string]any{"task_ids": []string{"extract"}, "dag_run_id": "b", "include_past": true}
	if got := refTasks(decode[tiRefList](t, e.as("user", "POST", "/api/v1/dags/example/clearTaskInstances", body))); !slices.Equal(got, []string{"a/extract", "b/extract"}) {
		t.Fatalf("include_past: %v", got)
	}
}

func TestUpdateTaskInstancesState(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "r1", "logical_date": "2024-02-01T00:00:00Z"})
	k := func(task string) store.TIKey { return store.TIKey{DagID: "example", RunID: "r1", TaskID: task} }
	e.setTI(k("extract"), store.TISuccess, 1)
	e.setTI(k("transform"), store.TIFailed, 1)
	e.setTI(k("load"), store.TIUpstreamFailed, 0)
	if _, err := e.st.UpdateDagRun(t.Context(), "example", "r1", func(r *store.DagRun) error {
		r.State = store.RunFailed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/dags/example/updateTaskInstancesState"
	body := map[string]any{"task_id": "transform", "dag_run_id": "r1", "new_state": "success", "include_downstream": true}
	if got := refTasks(decode[tiRefList](t, e.as("user", "POST", path, body))); !slices.Equal(got, []string{"r1/load", "r1/transform"}) {
		t.Fatalf("dry run %v", got)
	}
	if e.ti("example", "r1", "transform").State != store.TIFailed {
		t.Fatal("dry run changed state")
	}
	body["dry_run"] = false
	delete(body, "dag_run_id")
	body["execution_date"] = "2024-02-01T00:00:00Z"
	expect(t, e.as("user", "POST", path, body), 200)
	for _, task := range []string{"transform", "load"} {
		if s := e.ti("example", "r1", task).State; s != store.TISuccess {
			t.Fatalf("%s: %s", task, s)
		}
	}
	// The failed run is queued again so the scheduler re-decides it.
	if r := e.run("example", "r1"); r.State != store.RunQueued {
		t.Fatalf("run %s", r.State)
	}
	if len(e.events("api.post_set_task_instances_state")) != 1 {
		t.Fatal("no event")
	}
	expectProblem(t, e.as("user", "POST", path, map[string]any{"task_id": "load", "dag_run_id": "r1", "new_state": "running"}), 400, "new_state")
	expectProblem(t, e.as("user", "POST", path, map[string]any{"task_id": "load", "new_state": "failed"}), 400, "exactly one")
	expectProblem(t, e.as("user", "POST", path, map[string]any{"task_id": "load", "execution_date": "2030-01-01T00:00:00Z", "new_state": "failed"}), 404, "2030")
	expect(t, e.as("viewer", "POST", path, body), 403)
}

// TestTaskInstanceDatesAcrossManyRuns covers the one-query lookup of
// logical dates for a page spanning many runs.
func TestTaskInstanceDatesAcrossManyRuns(t *testing.T) {
	e := newEnv(t)
	want := map[string]time.Time{}
	for i := range 12 {
		date := time.Date(2024, 3, 1+i, 0, 0, 0, 0, time.UTC)
		run := e.trigger("manual", map[string]any{"dag_run_id": "m" + strconv.Itoa(i), "logical_date": date.Format(time.RFC3339)})
		want[run.DagRunID] = date
	}
	l := decode[tiList](t, e.as("viewer", "GET", "/api/v1/dags/manual/dagRuns/~/taskInstances", nil))
	if l.Total != 12 {
		t.Fatalf("total %d", l.Total)
	}
	for _, ti := range l.TIs {
		if !time.Time(ti.ExecutionDate).Equal(want[ti.DagRunID]) {
			t.Fatalf("%s: execution_date %v, want %v", ti.DagRunID, time.Time(ti.ExecutionDate), want[ti.DagRunID])
		}
	}
}
