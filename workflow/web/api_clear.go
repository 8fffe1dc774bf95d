package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// clearBody is Airflow's ClearTaskInstances body, with its defaults:
// dry_run, only_failed and reset_dag_runs are true unless sent false.
type clearBody struct {
	DryRun            *bool    `json:"dry_run"`
	TaskIDs           []string `json:"task_ids"`
	StartDate         *string  `json:"start_date"`
	EndDate           *string  `json:"end_date"`
	OnlyFailed        *bool    `json:"only_failed"`
	OnlyRunning       bool     `json:"only_running"`
	IncludeSubdags    bool     `json:"include_subdags"`   // no sub-DAGs in aird; accepted
	IncludeParentdag  bool     `json:"include_parentdag"` // likewise
	ResetDagRuns      *bool    `json:"reset_dag_runs"`
	DagRunID          *string  `json:"dag_run_id"`
	IncludeUpstream   bool     `json:"include_upstream"`
	IncludeDownstream bool     `json:"include_downstream"`
	IncludeFuture     bool     `json:"include_future"`
	IncludePast       bool     `json:"include_past"`
}

func orTrue(b *bool) bool { return b == nil || *b }

// clearTaskInstances is POST /api/v1/dags/{dag_id}/clearTaskInstances:
// the selected task instances go back to state none with their retries
// restored, and their runs back to queued, so the scheduler runs them
// again, as Airflow's clear does. A running task instance is left alone:
// aird cannot stop its process from here, and clearing it would let a
// second try run beside it.
func (s *Server) clearTaskInstances(w http.ResponseWriter, r *http.Request) {
	d, err := s.requireDefinition(r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body clearBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	tis, runs, err := s.clearSelected(r, d, body, "api.post_clear_task_instances")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"task_instances": tiRefs(tis, runs)})
}

// clearSelected clears what a ClearTaskInstances body selects (unless it
// is a dry run) and returns the task instances concerned with their runs.
// The API and the UI's clear form share it.
func (s *Server) clearSelected(r *http.Request, d *dag.DAG, body clearBody, event string) ([]store.TaskInstance, map[store.TIKey]store.DagRun, error) {
	ctx := r.Context()
	var err error
	if body.OnlyRunning {
		return nil, nil, badRequest("only_running is not supported: aird does not clear running task instances; clear them once they finish.")
	}
	if body.DagRunID != nil && (body.StartDate != nil || body.EndDate != nil) {
		return nil, nil, badRequest("Send either dag_run_id or start_date/end_date, not both.")
	}
	sel := runSelection{dagID: d.ID, runID: body.DagRunID, past: body.IncludePast, future: body.IncludeFuture}
	if sel.from, err = optionalTime("start_date", body.StartDate); err == nil {
		sel.to, err = optionalTime("end_date", body.EndDate)
	}
	if err != nil {
		return nil, nil, err
	}
	tasks, err := selectTasks(d, body.TaskIDs, body.IncludeUpstream, body.IncludeDownstream)
	if err != nil {
		return nil, nil, err
	}
	var states []store.TIState
	if orTrue(body.OnlyFailed) {
		states = []store.TIState{store.TIFailed, store.TIUpstreamFailed}
	}
	tis, runs, err := s.selectTIs(ctx, sel, tasks, states)
	if err != nil {
		return nil, nil, err
	}
	tis = slices.DeleteFunc(tis, func(ti store.TaskInstance) bool { return ti.State == store.TIRunning })
	if !orTrue(body.DryRun) {
		if tis, err = s.clearTIs(ctx, d, tis); err != nil {
			return nil, nil, err
		}
		if orTrue(body.ResetDagRuns) {
			if err := s.requeueRuns(ctx, tis, func(store.RunState) bool { return true }); err != nil {
				return nil, nil, err
			}
		}
		s.audit(r, store.Event{Event: event, DagID: d.ID, RunID: derefOr(body.DagRunID, ""), Extra: fmt.Sprintf("cleared %d task instance(s)", len(tis))})
	}
	return tis, runs, nil
}

// clearTIs resets each task instance unless it started running meanwhile,
// returning those it reset. max_tries becomes try_number + retries, so the
// task gets all its retries again (Airflow does the same).
func (s *Server) clearTIs(ctx context.Context, d *dag.DAG, tis []store.TaskInstance) ([]store.TaskInstance, error) {
	var done []store.TaskInstance
	for _, ti := range tis {
		retries := ti.MaxTries
		if t := d.Task(ti.TaskID); t != nil {
			retries = t.Retries
		}
		updated, err := s.store.UpdateTaskInstance(ctx, ti.TIKey, func(t *store.TaskInstance) error {
			if t.State == store.TIRunning {
				return store.ErrStateConflict
			}
			if t.State == store.TIUpForReschedule {
				// A sensor between pokes keeps its first poke as StartDate
				// (its timeout counts from there); cleared, it starts afresh.
				t.StartDate = time.Time{}
			}
			t.State, t.MaxTries, t.NextRetryAt = store.TINone, t.TryNumber+retries, time.Time{}
			return nil
		})
		if errors.Is(err, store.ErrStateConflict) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return done, err
		}
		done = append(done, updated)
	}
	return done, nil
}

// requeueRuns puts the runs of tis whose state passes want back to queued,
// so the scheduler starts them and looks at their task instances again.
func (s *Server) requeueRuns(ctx context.Context, tis []store.TaskInstance, want func(store.RunState) bool) error {
	seen := map[store.TIKey]bool{}
	now := s.now()
	for _, ti := range tis {
		rk := store.TIKey{DagID: ti.DagID, RunID: ti.RunID}
		if seen[rk] {
			continue
		}
		seen[rk] = true
		_, err := s.store.UpdateDagRun(ctx, rk.DagID, rk.RunID, func(run *store.DagRun) error {
			if !want(run.State) {
				return store.ErrStateConflict
			}
			run.State, run.QueuedAt, run.StartDate, run.EndDate = store.RunQueued, now, time.Time{}, time.Time{}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrStateConflict) && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// runSelection says which runs of a DAG an action applies to: one run
// (optionally with those before or after it), or a logical date range.
type runSelection struct {
	dagID        string
	runID        *string
	from, to     time.Time
	past, future bool
}

func (s *Server) selectRuns(ctx context.Context, sel runSelection) ([]store.DagRun, error) {
	f := store.DagRunFilter{DagID: sel.dagID, LogicalDateFrom: sel.from, LogicalDateTo: sel.to}
	if sel.runID != nil {
		run, err := s.getRun(ctx, sel.dagID, *sel.runID)
		if err != nil {
			return nil, err
		}
		if !sel.past && !sel.future {
			return []store.DagRun{run}, nil
		}
		f.LogicalDateFrom, f.LogicalDateTo = run.LogicalDate, run.LogicalDate
		if sel.past {
			f.LogicalDateFrom = time.Time{}
		}
		if sel.future {
			f.LogicalDateTo = time.Time{}
		}
	}
	runs, _, err := s.store.ListDagRuns(ctx, f)
	return runs, err
}

// selectTIs lists the task instances of the selected runs and tasks in
// the given states (any state if none), with the runs by key.
func (s *Server) selectTIs(ctx context.Context, sel runSelection, tasks []string, states []store.TIState) ([]store.TaskInstance, map[store.TIKey]store.DagRun, error) {
	runs, err := s.selectRuns(ctx, sel)
	if err != nil {
		return nil, nil, err
	}
	byKey := make(map[store.TIKey]store.DagRun, len(runs))
	for _, run := range runs {
		byKey[store.TIKey{DagID: run.DagID, RunID: run.RunID}] = run
	}
	if len(runs) == 0 {
		return nil, byKey, nil
	}
	// One query for the whole DAG beats one per run; runs not selected are
	// dropped after.
	f := store.TIFilter{DagID: sel.dagID, TaskIDs: tasks, States: states}
	if len(runs) == 1 {
		f.RunID = runs[0].RunID
	}
	tis, err := s.store.ListTaskInstances(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	tis = slices.DeleteFunc(tis, func(ti store.TaskInstance) bool {
		_, ok := byKey[store.TIKey{DagID: ti.DagID, RunID: ti.RunID}]
		return !ok
	})
	return tis, byKey, nil
}

// selectTasks resolves task IDs (all tasks when empty) and adds their
// upstream or downstream tasks, transitively.
func selectTasks(d *dag.DAG, ids []string, upstream, downstream bool) ([]string, error) {
	if len(ids) == 0 {
		out := make([]string, 0, len(d.Tasks))
		for _, t := range d.Tasks {
			out = append(out, t.ID)
		}
		return out, nil
	}
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		t := d.Task(id)
		if upstream {
			for _, u := range t.Upstream {
				walk(u)
			}
		}
		if downstream {
			for _, dn := range t.Downstream {
				walk(dn)
			}
		}
	}
	for _, id := range ids {
		if d.Task(id) == nil {
			return nil, badRequest("Task '%s' not found in DAG '%s'.", id, d.ID)
		}
		walk(id)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

func tiRefs(tis []store.TaskInstance, runs map[store.TIKey]store.DagRun) []tiRefJSON {
	out := make([]tiRefJSON, 0, len(tis))
	for _, ti := range tis {
		run := runs[store.TIKey{DagID: ti.DagID, RunID: ti.RunID}]
		out = append(out, tiRefJSON{TaskID: ti.TaskID, DagID: ti.DagID, DagRunID: ti.RunID, ExecutionDate: apiTime(run.LogicalDate)})
	}
	return out
}

func optionalTime(field string, v *string) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	return parseTime(field, *v)
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
