package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// definition returns the loaded definition of a DAG, or nil.
func (s *Server) definition(dagID string) *dag.DAG {
	if b := s.dags(); b != nil {
		return b.DAGs[dagID]
	}
	return nil
}

// requireDefinition is for actions that need the DAG's tasks.
func (s *Server) requireDefinition(dagID string) (*dag.DAG, error) {
	if d := s.definition(dagID); d != nil {
		return d, nil
	}
	return nil, notFound("DAG not found", "DAG with dag_id: '%s' not found in the DAG folder.", dagID)
}

// storeDAG reads a DAG's record, 404 in Airflow's words when unknown.
func (s *Server) storeDAG(ctx context.Context, dagID string) (store.DAG, error) {
	d, err := s.store.GetDAG(ctx, dagID)
	if errors.Is(err, store.ErrNotFound) {
		return d, notFound("DAG not found", "DAG with dag_id: '%s' not found", dagID)
	}
	return d, err
}

// importErrorFiles is the set of DAG files that currently fail to load.
func (s *Server) importErrorFiles(ctx context.Context) (map[string]bool, error) {
	errs, err := s.store.ListImportErrors(ctx)
	if err != nil {
		return nil, err
	}
	files := make(map[string]bool, len(errs))
	for _, e := range errs {
		files[e.Filename] = true
	}
	return files, nil
}

// dagFilter is the query of GET /dags.
type dagFilter struct {
	onlyActive        bool
	paused, pausedSet bool
	tags              []string
	pattern           string // lower-cased substring of the DAG ID
}

func dagFilterOf(r *http.Request) (dagFilter, error) {
	f := dagFilter{onlyActive: true, tags: r.URL.Query()["tags"], pattern: strings.ToLower(r.URL.Query().Get("dag_id_pattern"))}
	active, set, err := boolParam(r, "only_active")
	if err != nil {
		return f, err
	}
	if set {
		f.onlyActive = active
	}
	f.paused, f.pausedSet, err = boolParam(r, "paused")
	return f, err
}

// match applies Airflow's semantics: tags match any of the given tags,
// dag_id_pattern is a case-insensitive substring.
func (f dagFilter) match(d store.DAG) bool {
	switch {
	case f.onlyActive && !d.IsActive:
		return false
	case f.pausedSet && d.IsPaused != f.paused:
		return false
	case f.pattern != "" && !strings.Contains(strings.ToLower(d.DagID), f.pattern):
		return false
	case len(f.tags) > 0 && !slices.ContainsFunc(d.Tags, func(t string) bool { return slices.Contains(f.tags, t) }):
		return false
	}
	return true
}

// listDAGs is GET /api/v1/dags. The store returns every DAG (a few
// thousand at most), which is filtered and paged here.
func (s *Server) listDAGs(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := dagFilterOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	field, desc, err := orderBy(r, "dag_id", "dag_id", "last_parsed_time", "is_paused")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.ListDAGs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	matched := slices.DeleteFunc(all, func(d store.DAG) bool { return !f.match(d) })
	sortDAGs(matched, field, desc)
	errFiles, err := s.importErrorFiles(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := []dagJSON{}
	for _, d := range slicePage(matched, pg) {
		items = append(items, newDAGJSON(d, s.definition(d.DagID), errFiles))
	}
	writeJSON(w, http.StatusOK, map[string]any{"dags": items, "total_entries": len(matched)})
}

// sortDAGs orders by field, ties by DAG ID, so pages are stable.
func sortDAGs(ds []store.DAG, field string, desc bool) {
	slices.SortStableFunc(ds, func(a, b store.DAG) int {
		c := 0
		switch field {
		case "last_parsed_time":
			c = a.LastParsedAt.Compare(b.LastParsedAt)
		case "is_paused":
			c = boolCompare(a.IsPaused, b.IsPaused)
		}
		c = cmp.Or(c, strings.Compare(a.DagID, b.DagID))
		if desc {
			return -c
		}
		return c
	})
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// getDAG is GET /api/v1/dags/{dag_id}, with the next run computed from the
// definition and the newest scheduled run.
func (s *Server) getDAG(w http.ResponseWriter, r *http.Request) {
	j, err := s.dagJSONFor(r.Context(), r.PathValue("dag_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) dagJSONFor(ctx context.Context, dagID string) (dagJSON, error) {
	d, err := s.storeDAG(ctx, dagID)
	if err != nil {
		return dagJSON{}, err
	}
	errFiles, err := s.importErrorFiles(ctx)
	if err != nil {
		return dagJSON{}, err
	}
	def := s.definition(dagID)
	j := newDAGJSON(d, def, errFiles)
	if err := s.fillNextRun(ctx, def, &j); err != nil {
		return dagJSON{}, err
	}
	return j, nil
}

// fillNextRun sets next_dagrun*: the due interval if one is due now, else
// the next one to come.
func (s *Server) fillNextRun(ctx context.Context, def *dag.DAG, j *dagJSON) error {
	if def == nil || def.Schedule == nil {
		return nil
	}
	runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: def.ID, RunTypes: []store.RunType{store.RunScheduled}, Desc: true, Limit: 1})
	if err != nil {
		return err
	}
	var last *dag.Interval
	if len(runs) > 0 {
		last = &dag.Interval{Start: runs[0].DataIntervalStart, End: runs[0].DataIntervalEnd}
	}
	iv, ok := def.NextInterval(last, s.now())
	if !ok {
		iv, ok = def.NextIntervalAfter(last)
	}
	if ok {
		j.NextDagrun, j.NextDagrunDataIntervalStart = apiTime(iv.Start), apiTime(iv.Start)
		j.NextDagrunDataIntervalEnd, j.NextDagrunCreateAfter = apiTime(iv.End), apiTime(iv.End)
	}
	return nil
}

// patchDAG is PATCH /api/v1/dags/{dag_id}: only is_paused can change, as
// in Airflow.
func (s *Server) patchDAG(w http.ResponseWriter, r *http.Request) {
	dagID := r.PathValue("dag_id")
	if mask := r.URL.Query()["update_mask"]; len(mask) > 0 && !slices.Equal(splitMask(mask), []string{"is_paused"}) {
		s.fail(w, r, badRequest("update_mask=%s: only `is_paused` can be updated through the REST API.", strings.Join(mask, ",")))
		return
	}
	var body struct {
		IsPaused *bool `json:"is_paused"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.IsPaused == nil {
		s.fail(w, r, badRequest("Field is_paused is required (true or false)."))
		return
	}
	if _, err := s.storeDAG(r.Context(), dagID); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.SetDAGPaused(r.Context(), dagID, *body.IsPaused); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.patch_dag", DagID: dagID, Extra: fmt.Sprintf("is_paused=%t", *body.IsPaused)})
	s.getDAG(w, r)
}

// splitMask accepts update_mask both repeated and comma-separated.
func splitMask(mask []string) []string {
	var out []string
	for _, m := range mask {
		for _, f := range strings.Split(m, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}
