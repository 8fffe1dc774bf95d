package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

type runList struct {
	Runs  []dagRunJSON `json:"dag_runs"`
	Total int          `json:"total_entries"`
}

func runIDs(l runList) []string {
	var ids []string
	for _, r := range l.Runs {
		ids = append(ids, r.DagRunID)
	}
	return ids
}

// TestTriggerCreatesQueuedRun: the run is queued with its task instances
// (state none) and visible through the API, as the scheduler expects it.
func TestTriggerCreatesQueuedRun(t *testing.T) {
	e := newEnv(t)
	run := e.trigger("example", map[string]any{"logical_date": "2025-03-04T05:06:07+09:00", "conf": map[string]any{"table": "orders"}})
	if run.State != "queued" || run.RunType != "manual" || !run.ExternalTrigger || run.DagRunID != "manual__2025-03-03T20:06:07+00:00" ||
		!time.Time(run.LogicalDate).Equal(time.Date(2025, 3, 3, 20, 6, 7, 0, time.UTC)) || run.Conf["table"] != "orders" {
		t.Fatalf("run %+v", run)
	}
	got := decode[dagRunJSON](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/"+run.DagRunID, nil))
	if got.DagRunID != run.DagRunID || got.State != "queued" {
		t.Fatalf("GET run %+v", got)
	}
	l := decode[tiList](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/"+run.DagRunID+"/taskInstances", nil))
	if l.Total != 3 {
		t.Fatalf("%d task instances", l.Total)
	}
	for _, ti := range l.TIs {
		if ti.State != nil || !time.Time(ti.ExecutionDate).Equal(time.Time(run.LogicalDate)) || ti.MapIndex != -1 {
			t.Fatalf("ti %+v", ti)
		}
	}
	if ev := e.events("api.post_dag_run"); len(ev) != 1 || ev[0].RunID != run.DagRunID || ev[0].Owner != "user" {
		t.Fatalf("events %+v", ev)
	}
	// A run ID of one's own, and no logical date: now.
	own := e.trigger("manual", map[string]any{"dag_run_id": "my_run-1"})
	if own.DagRunID != "my_run-1" || time.Since(time.Time(own.LogicalDate)) > time.Minute {
		t.Fatalf("own run %+v", own)
	}
}

func TestTriggerBadInput(t *testing.T) {
	e := newEnv(t)
	post := func(dagID string, body any) *httptest.ResponseRecorder {
		return e.as("user", "POST", "/api/v1/dags/"+dagID+"/dagRuns", body)
	}
	expectProblem(t, post("nope", map[string]any{}), 404, "nope")
	expectProblem(t, post("example", `{"conf": `), 400, "not valid JSON")
	expectProblem(t, post("example", ``), 400, "empty")
	expectProblem(t, post("example", map[string]any{"logical_date": "yesterday"}), 400, "logical_date")
	expectProblem(t, post("example", map[string]any{"logical_date": "2024-01-01"}), 400, "RFC 3339")
	expectProblem(t, post("example", map[string]any{"conf": "x"}), 400, "conf")
	expectProblem(t, post("example", map[string]any{"conf": map[string]any{"rows": "ten"}}), 400, "rows")
	expectProblem(t, post("example", map[string]any{"dag_run_id": "a/b"}), 400, "dag_run_id")
	expectProblem(t, post("example", map[string]any{"colour": "red"}), 400, "colour")
	expectProblem(t, post("example", map[string]any{"logical_date": "2024-01-01T00:00:00Z", "execution_date": "2024-01-02T00:00:00Z"}), 400, "differ")
	expectProblem(t, post("example", map[string]any{"data_interval_start": "2024-01-01T00:00:00Z"}), 400, "together")
	e.trigger("example", map[string]any{"dag_run_id": "dup"})
	expectProblem(t, post("example", map[string]any{"dag_run_id": "dup"}), 409, "dup")
	if n := len(e.events("api.post_dag_run")); n != 1 {
		t.Fatalf("%d trigger events, want 1", n)
	}
}

func TestListDagRunsPaginationAndFilters(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		e.trigger("example", map[string]any{"dag_run_id": fmt.Sprintf("r%d", i), "logical_date": base.AddDate(0, 0, i).Format(time.RFC3339)})
	}
	e.trigger("manual", map[string]any{"dag_run_id": "m0"})
	if _, err := e.st.UpdateDagRun(t.Context(), "example", "r1", func(r *store.DagRun) error {
		r.State, r.StartDate, r.EndDate = store.RunSuccess, base.AddDate(0, 1, 0), base.AddDate(0, 1, 1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"":                                    {"r0", "r1", "r2", "r3", "r4"},
		"?limit=2&offset=1":                   {"r1", "r2"},
		"?order_by=-execution_date&limit=2":   {"r4", "r3"},
		"?state=success":                      {"r1"},
		"?state=queued&state=success&limit=2": {"r0", "r1"},
		"?execution_date_gte=2024-01-03T00:00:00Z&execution_date_lte=2024-01-04T00:00:00Z": {"r2", "r3"},
		"?start_date_gte=2024-01-15T00:00:00Z":                                             {"r1"},
		"?end_date_lte=2024-01-01T00:00:00Z":                                               nil,
	} {
		l := decode[runList](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns"+q, nil))
		if !slices.Equal(runIDs(l), want) {
			t.Errorf("%q: %v, want %v", q, runIDs(l), want)
		}
		if q == "?limit=2&offset=1" && l.Total != 5 {
			t.Errorf("total_entries %d, want 5", l.Total)
		}
	}
	if l := decode[runList](t, e.as("viewer", "GET", "/api/v1/dags/~/dagRuns", nil)); l.Total != 6 {
		t.Fatalf("~: %d runs", l.Total)
	}
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns?state=done", nil), 400, "state")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns?execution_date_gte=today", nil), 400, "execution_date_gte")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/nope/dagRuns", nil), 404, "nope")
}

func TestDeleteDagRun(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "gone"})
	expect(t, e.as("viewer", "DELETE", "/api/v1/dags/example/dagRuns/gone", nil), 403)
	expect(t, e.as("user", "DELETE", "/api/v1/dags/example/dagRuns/gone", nil), http.StatusNoContent)
	expectProblem(t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/gone", nil), 404, "gone")
	expectProblem(t, e.as("user", "DELETE", "/api/v1/dags/example/dagRuns/gone", nil), 404, "gone")
	if n, _ := e.st.CountTaskInstances(t.Context(), store.TIFilter{DagID: "example"}); n != 0 {
		t.Fatalf("%d task instances left", n)
	}
	if len(e.events("api.delete_dag_run")) != 1 {
		t.Fatal("no delete event")
	}
}
