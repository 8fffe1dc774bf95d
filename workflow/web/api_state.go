package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// setStateBody is Airflow's UpdateTaskInstancesState body; dry_run
// defaults to true as there.
type setStateBody struct {
	DryRun            *bool   `json:"dry_run"`
	TaskID            string  `json:"task_id"`
	ExecutionDate     *string `json:"execution_date"`
	DagRunID          *string `json:"dag_run_id"`
	IncludeUpstream   bool    `json:"include_upstream"`
	IncludeDownstream bool    `json:"include_downstream"`
	IncludeFuture     bool    `json:"include_future"`
	IncludePast       bool    `json:"include_past"`
	NewState          string  `json:"new_state"`
}

// updateTaskInstancesState is POST …/updateTaskInstancesState: mark task
// instances success, failed or skipped. A finished run of a changed task
// instance goes back to queued so the scheduler re-evaluates it (a failed
// run whose failed leaf is marked success ends as success). Running task
// instances are left alone, as in clear: their process cannot be stopped
// from here.
func (s *Server) updateTaskInstancesState(w http.ResponseWriter, r *http.Request) {
	d, err := s.requireDefinition(r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body setStateBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	tis, runs, err := s.setStates(r, d, body, "api.post_set_task_instances_state")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"task_instances": tiRefs(tis, runs)})
}

// setStates marks what an UpdateTaskInstancesState body selects (unless
// it is a dry run) and returns the task instances concerned with their
// runs. The API and the UI's mark forms share it.
func (s *Server) setStates(r *http.Request, d *dag.DAG, body setStateBody, event string) ([]store.TaskInstance, map[store.TIKey]store.DagRun, error) {
	ctx := r.Context()
	var err error
	to := store.TIState(body.NewState)
	if !slices.Contains([]store.TIState{store.TISuccess, store.TIFailed, store.TISkipped}, to) {
		return nil, nil, badRequest("new_state %q: want success, failed or skipped.", body.NewState)
	}
	if body.TaskID == "" {
		return nil, nil, badRequest("Field task_id is required.")
	}
	if (body.DagRunID == nil) == (body.ExecutionDate == nil) {
		return nil, nil, badRequest("Send exactly one of dag_run_id and execution_date.")
	}
	sel := runSelection{dagID: d.ID, runID: body.DagRunID, past: body.IncludePast, future: body.IncludeFuture}
	if body.ExecutionDate != nil {
		if sel, err = s.runAtDate(r, sel, *body.ExecutionDate); err != nil {
			return nil, nil, err
		}
	}
	tasks, err := selectTasks(d, []string{body.TaskID}, body.IncludeUpstream, body.IncludeDownstream)
	if err != nil {
		return nil, nil, err
	}
	tis, runs, err := s.selectTIs(ctx, sel, tasks, nil)
	if err != nil {
		return nil, nil, err
	}
	tis = slices.DeleteFunc(tis, func(ti store.TaskInstance) bool { return ti.State == store.TIRunning || ti.State == to })
	if !orTrue(body.DryRun) {
		var changed []store.TaskInstance
		now := s.now()
		for _, ti := range tis {
			updated, err := s.store.UpdateTaskInstance(ctx, ti.TIKey, func(t *store.TaskInstance) error {
				if t.State == store.TIRunning {
					return store.ErrStateConflict
				}
				t.State, t.EndDate = to, now
				return nil
			})
			if errors.Is(err, store.ErrStateConflict) || errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			changed = append(changed, updated)
		}
		tis = changed
		finished := func(st store.RunState) bool { return st == store.RunSuccess || st == store.RunFailed }
		if err := s.requeueRuns(ctx, tis, finished); err != nil {
			return nil, nil, err
		}
		s.audit(r, store.Event{Event: event, DagID: d.ID, RunID: derefOr(body.DagRunID, ""), TaskID: body.TaskID,
			Extra: fmt.Sprintf("new_state=%s, %d task instance(s)", to, len(tis))})
	}
	return tis, runs, nil
}

// runAtDate turns an execution_date into the run with that logical date.
func (s *Server) runAtDate(r *http.Request, sel runSelection, date string) (runSelection, error) {
	t, err := parseTime("execution_date", date)
	if err != nil {
		return sel, err
	}
	runs, _, err := s.store.ListDagRuns(r.Context(), store.DagRunFilter{DagID: sel.dagID, LogicalDateFrom: t, LogicalDateTo: t, Limit: 1})
	if err != nil {
		return sel, err
	}
	if len(runs) == 0 {
		return sel, notFound("DAGRun not found", "DAG '%s' has no run with logical date %s.", sel.dagID, date)
	}
	sel.runID = &runs[0].RunID
	return sel, nil
}
