package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// tiStates are the task instance states a state filter accepts; "none"
// is Airflow's name for the empty state.
func parseTIState(v string) (store.TIState, bool) {
	if v == "none" {
		return store.TINone, true
	}
	s := store.TIState(v)
	ok := slices.Contains([]store.TIState{store.TIScheduled, store.TIQueued, store.TIRunning, store.TISuccess,
		store.TIFailed, store.TIUpForRetry, store.TIUpForReschedule, store.TIUpstreamFailed, store.TISkipped}, s)
	return s, ok
}

// listTaskInstances is GET …/dagRuns/{dag_run_id}/taskInstances; "~" for
// dag_id or dag_run_id widens it to every DAG or run. Task instances come
// in the store's order (priority, run, task), which is stable for paging.
func (s *Server) listTaskInstances(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dagID, runID := r.PathValue("dag_id"), r.PathValue("dag_run_id")
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := store.TIFilter{Pool: r.URL.Query().Get("pool")}
	for _, v := range r.URL.Query()["state"] {
		st, ok := parseTIState(v)
		if !ok {
			s.fail(w, r, badRequest("state=%q: want none, scheduled, queued, running, success, failed, up_for_retry, up_for_reschedule, upstream_failed or skipped.", v))
			return
		}
		f.States = append(f.States, st)
	}
	dates := map[store.TIKey]time.Time{} // run key (TaskID empty) → logical date
	if dagID != allDAGs {
		f.DagID = dagID
		if _, err := s.storeDAG(ctx, dagID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if runID != allDAGs {
		f.RunID = runID
		if dagID != allDAGs {
			run, err := s.getRun(ctx, dagID, runID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			dates[store.TIKey{DagID: dagID, RunID: runID}] = run.LogicalDate
		}
	}
	total, err := s.store.CountTaskInstances(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Limit, f.Offset = pg.limit, pg.offset
	tis, err := s.store.ListTaskInstances(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.logicalDates(ctx, f.DagID, tis, dates); err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]taskInstanceJSON, 0, len(tis))
	for _, ti := range tis {
		items = append(items, newTaskInstanceJSON(ti, dates[store.TIKey{DagID: ti.DagID, RunID: ti.RunID}]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"task_instances": items, "total_entries": total})
}

// logicalDates fills dates (by run key, TaskID empty) with the logical date
// each task instance reports as its execution_date. A page across many
// runs of one DAG reads the DAG's runs in one query when there are not
// too many; otherwise each run is read once. A run deleted meanwhile
// gives the zero time.
func (s *Server) logicalDates(ctx context.Context, dagID string, tis []store.TaskInstance, dates map[store.TIKey]time.Time) error {
	const batchMax = 1000
	var missing []store.TIKey
	for _, ti := range tis {
		rk := store.TIKey{DagID: ti.DagID, RunID: ti.RunID}
		if _, ok := dates[rk]; !ok && !slices.Contains(missing, rk) {
			missing = append(missing, rk)
		}
	}
	if len(missing) > 8 && dagID != "" {
		runs, total, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, Limit: batchMax})
		if err != nil {
			return err
		}
		if total <= batchMax {
			for _, run := range runs {
				dates[store.TIKey{DagID: run.DagID, RunID: run.RunID}] = run.LogicalDate
			}
		}
	}
	for _, rk := range missing {
		if _, ok := dates[rk]; ok {
			continue
		}
		run, err := s.store.GetDagRun(ctx, rk.DagID, rk.RunID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		dates[rk] = run.LogicalDate
	}
	return nil
}

// getTI reads a task instance, 404 in Airflow's words when unknown.
func (s *Server) getTI(ctx context.Context, k store.TIKey) (store.TaskInstance, error) {
	ti, err := s.store.GetTaskInstance(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return ti, notFound("Task instance not found", "Task instance %s of DAG '%s' run '%s' not found", k.TaskID, k.DagID, k.RunID)
	}
	return ti, err
}

// getTaskInstance is GET …/taskInstances/{task_id}.
func (s *Server) getTaskInstance(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.getRun(ctx, r.PathValue("dag_id"), r.PathValue("dag_run_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ti, err := s.getTI(ctx, store.TIKey{DagID: run.DagID, RunID: run.RunID, TaskID: r.PathValue("task_id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTaskInstanceJSON(ti, run.LogicalDate))
}
