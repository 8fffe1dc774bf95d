package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// allDAGs is Airflow's "~" wildcard for dag_id and dag_run_id in list
// routes.
const allDAGs = "~"

// getRun reads a run, 404 in Airflow's words when unknown.
func (s *Server) getRun(ctx context.Context, dagID, runID string) (store.DagRun, error) {
	run, err := s.store.GetDagRun(ctx, dagID, runID)
	if errors.Is(err, store.ErrNotFound) {
		return run, notFound("DAGRun not found", "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found", dagID, runID)
	}
	return run, err
}

// runListQuery is the query of GET …/dagRuns.
type runListQuery struct {
	filter store.DagRunFilter
	// start/end date bounds are not store filters; when set, the list is
	// filtered and paged here.
	startFrom, startTo, endFrom, endTo time.Time
}

func (q runListQuery) inMemory() bool {
	return !q.startFrom.IsZero() || !q.startTo.IsZero() || !q.endFrom.IsZero() || !q.endTo.IsZero()
}

func (q runListQuery) match(r store.DagRun) bool {
	return within(r.StartDate, q.startFrom, q.startTo) && within(r.EndDate, q.endFrom, q.endTo)
}

// within treats a zero bound as open; a zero t fails any set bound.
func within(t, from, to time.Time) bool {
	if (!from.IsZero() || !to.IsZero()) && t.IsZero() {
		return false
	}
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

func runListQueryOf(r *http.Request, dagID string) (runListQuery, error) {
	q := runListQuery{filter: store.DagRunFilter{DagID: dagID}}
	if dagID == allDAGs {
		q.filter.DagID = ""
	}
	for _, st := range r.URL.Query()["state"] {
		rs := store.RunState(st)
		if !slices.Contains([]store.RunState{store.RunQueued, store.RunRunning, store.RunSuccess, store.RunFailed}, rs) {
			return q, badRequest("state=%q: want queued, running, success or failed.", st)
		}
		q.filter.States = append(q.filter.States, rs)
	}
	bounds := []struct {
		name string
		dst  *time.Time
	}{
		{"execution_date_gte", &q.filter.LogicalDateFrom}, {"execution_date_lte", &q.filter.LogicalDateTo},
		{"start_date_gte", &q.startFrom}, {"start_date_lte", &q.startTo},
		{"end_date_gte", &q.endFrom}, {"end_date_lte", &q.endTo},
	}
	for _, b := range bounds {
		t, err := timeParam(r, b.name)
		if err != nil {
			return q, err
		}
		*b.dst = t
	}
	_, desc, err := orderBy(r, "execution_date", "execution_date", "logical_date")
	q.filter.Desc = desc
	return q, err
}

// listDagRuns is GET /api/v1/dags/{dag_id}/dagRuns; dag_id "~" lists the
// runs of every DAG.
func (s *Server) listDagRuns(w http.ResponseWriter, r *http.Request) {
	dagID := r.PathValue("dag_id")
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := runListQueryOf(r, dagID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if dagID != allDAGs {
		if _, err := s.storeDAG(r.Context(), dagID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var runs []store.DagRun
	var total int
	if q.inMemory() {
		all, _, lerr := s.store.ListDagRuns(r.Context(), q.filter)
		all = slices.DeleteFunc(all, func(run store.DagRun) bool { return !q.match(run) })
		runs, total, err = slicePage(all, pg), len(all), lerr
	} else {
		q.filter.Limit, q.filter.Offset = pg.limit, pg.offset
		runs, total, err = s.store.ListDagRuns(r.Context(), q.filter)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]dagRunJSON, 0, len(runs))
	for _, run := range runs {
		items = append(items, newDagRunJSON(run))
	}
	writeJSON(w, http.StatusOK, map[string]any{"dag_runs": items, "total_entries": total})
}

// getDagRun is GET /api/v1/dags/{dag_id}/dagRuns/{dag_run_id}.
func (s *Server) getDagRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.getRun(r.Context(), r.PathValue("dag_id"), r.PathValue("dag_run_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newDagRunJSON(run))
}

// triggerBody is Airflow's DAGRun creation body.
type triggerBody struct {
	DagRunID          *string        `json:"dag_run_id"`
	LogicalDate       *string        `json:"logical_date"`
	ExecutionDate     *string        `json:"execution_date"` // Airflow's older name for logical_date
	DataIntervalStart *string        `json:"data_interval_start"`
	DataIntervalEnd   *string        `json:"data_interval_end"`
	Conf              map[string]any `json:"conf"`
	Note              *string        `json:"note"` // accepted for compatibility; not stored
}

// postDagRun is POST /api/v1/dags/{dag_id}/dagRuns: a manual run, queued
// for the scheduler, exactly as `aird dags trigger` makes it.
func (s *Server) postDagRun(w http.ResponseWriter, r *http.Request) {
	d, err := s.requireDefinition(r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body triggerBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	created, err := s.triggerRun(r, d, body, "api.post_dag_run")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newDagRunJSON(created))
}

// triggerRun creates and records a manual run; the API and the UI's
// trigger form both come here, so they validate and audit alike.
func (s *Server) triggerRun(r *http.Request, d *dag.DAG, body triggerBody, event string) (store.DagRun, error) {
	run, tis, err := s.newManualRun(d, body)
	if err != nil {
		return store.DagRun{}, err
	}
	created, err := s.store.CreateDagRun(r.Context(), run, tis)
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.DagRun{}, conflict("DAGRun with DAG ID: '%s' and DAGRun ID: '%s' (or logical date %s) already exists", d.ID, run.RunID, run.LogicalDate.UTC().Format(time.RFC3339Nano))
	}
	if err != nil {
		return store.DagRun{}, err
	}
	s.audit(r, store.Event{Event: event, DagID: d.ID, RunID: created.RunID, Extra: "logical_date=" + created.LogicalDate.Format(time.RFC3339Nano)})
	return created, nil
}

// newManualRun validates a trigger body and builds the run.
func (s *Server) newManualRun(d *dag.DAG, body triggerBody) (store.DagRun, []store.TaskInstance, error) {
	now := s.now()
	logical := now
	if body.LogicalDate != nil && body.ExecutionDate != nil && *body.LogicalDate != *body.ExecutionDate {
		return store.DagRun{}, nil, badRequest("logical_date and execution_date differ; send only logical_date.")
	}
	for _, v := range []struct {
		name string
		val  *string
	}{{"logical_date", body.LogicalDate}, {"execution_date", body.ExecutionDate}} {
		if v.val != nil {
			t, err := parseTime(v.name, *v.val)
			if err != nil {
				return store.DagRun{}, nil, err
			}
			logical = t
		}
	}
	iv := dag.Interval{Start: logical, End: logical}
	if (body.DataIntervalStart == nil) != (body.DataIntervalEnd == nil) {
		return store.DagRun{}, nil, badRequest("data_interval_start and data_interval_end must be given together.")
	}
	if body.DataIntervalStart != nil {
		var err error
		if iv.Start, err = parseTime("data_interval_start", *body.DataIntervalStart); err != nil {
			return store.DagRun{}, nil, err
		}
		if iv.End, err = parseTime("data_interval_end", *body.DataIntervalEnd); err != nil {
			return store.DagRun{}, nil, err
		}
		if iv.End.Before(iv.Start) {
			return store.DagRun{}, nil, badRequest("data_interval_end is before data_interval_start.")
		}
	}
	if _, err := d.MergeParams(body.Conf); err != nil {
		return store.DagRun{}, nil, badRequest("conf does not fit the params of DAG '%s': %v", d.ID, err)
	}
	run, tis := scheduler.NewRun(d, store.RunManual, iv, body.Conf, now)
	run.LogicalDate, run.RunID = logical, scheduler.RunID(store.RunManual, logical)
	if body.DagRunID != nil {
		if err := checkRunID(*body.DagRunID); err != nil {
			return store.DagRun{}, nil, err
		}
		run.RunID = *body.DagRunID
	}
	for i := range tis {
		tis[i].RunID = run.RunID
	}
	return run, tis, nil
}

// checkRunID applies Airflow's default allowed_run_id_pattern, which also
// keeps run IDs safe in URL paths.
func checkRunID(id string) error {
	const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~:+-"
	if id == "" || len(id) > 250 || strings.Trim(id, allowed) != "" || id == allDAGs {
		return badRequest("dag_run_id %q: use 1 to 250 letters, digits and _ . ~ : + - (and not ~ alone).", id)
	}
	return nil
}

// deleteDagRun is DELETE /api/v1/dags/{dag_id}/dagRuns/{dag_run_id}; the
// run's task instances go with it.
func (s *Server) deleteDagRun(w http.ResponseWriter, r *http.Request) {
	dagID, runID := r.PathValue("dag_id"), r.PathValue("dag_run_id")
	err := s.store.DeleteDagRun(r.Context(), dagID, runID)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("DAGRun not found", "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found", dagID, runID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.delete_dag_run", DagID: dagID, RunID: runID})
	w.WriteHeader(http.StatusNoContent)
}
