package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// Grid refresh periods for static/aird.js: quick while a run is active,
// slow otherwise (a run may be triggered elsewhere).
const (
	refreshActiveMS = 2000
	refreshIdleMS   = 15000
)

type gridRow struct {
	TaskID string
	// Cells is the row's <td> elements, written here rather than by the
	// template: a grid has thousands of cells, and each template action
	// costs reflective escaper calls (most of the page's time). Every
	// value is escaped by gridCells.
	Cells template.HTML
}

type gridView struct {
	DAG       store.DAG
	Loaded    bool           // the definition is loaded: trigger works
	Runs      []store.DagRun // oldest first, as columns left to right
	Rows      []gridRow
	RefreshMS int
	// Trigger form: default conf (the DAG's params), and on a failed
	// trigger the input and the error, shown again.
	Conf, RunID, TriggerError string
}

// gridRunsDefault and gridRunsMax bound the columns (?runs=N).
const (
	gridRunsDefault = 25
	gridRunsMax     = 100
)

// uiGrid is the DAG's grid: the latest runs × its tasks, coloured by state.
func (s *Server) uiGrid(w http.ResponseWriter, r *http.Request) {
	v, err := s.gridView(r, r.PathValue("dag_id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "grid", uiPage{Title: v.DAG.DagID, Nav: "dags", Data: v})
}

func (s *Server) gridView(r *http.Request, dagID string) (gridView, error) {
	ctx := r.Context()
	d, err := s.storeDAG(ctx, dagID)
	if err != nil {
		return gridView{}, err
	}
	n := gridRunsDefault
	if raw := r.URL.Query().Get("runs"); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 {
			return gridView{}, badRequest("runs=%q: want a whole number from 1 to %d.", raw, gridRunsMax)
		}
		n = min(n, gridRunsMax)
	}
	runs, total, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, Desc: true, Limit: n})
	if err != nil {
		return gridView{}, err
	}
	slices.Reverse(runs)
	v := gridView{DAG: d, Runs: runs, RefreshMS: refreshIdleMS, Conf: "{}"}
	def := s.definition(dagID)
	if def != nil {
		v.Loaded = true
		v.Conf = paramsJSON(def)
	}
	tis, err := s.runTIs(ctx, dagID, runs, total)
	if err != nil {
		return gridView{}, err
	}
	for _, run := range runs {
		if run.State == store.RunQueued || run.State == store.RunRunning {
			v.RefreshMS = refreshActiveMS
		}
	}
	for _, id := range taskOrder(def, tis) {
		v.Rows = append(v.Rows, gridRow{TaskID: id, Cells: s.gridCells(dagID, id, runs, tis)})
	}
	return v, nil
}

// gridCells writes one task's cells, one per run: coloured by state,
// linking to the task instance, with the state for screen readers.
func (s *Server) gridCells(dagID, taskID string, runs []store.DagRun, tis map[store.TIKey]store.TaskInstance) template.HTML {
	var b strings.Builder
	esc := html.EscapeString
	for _, run := range runs {
		ti, ok := tis[store.TIKey{DagID: dagID, RunID: run.RunID, TaskID: taskID}]
		if !ok {
			b.WriteString(`<td class="cell absent"></td>`)
			continue
		}
		state := ti.State.String()
		fmt.Fprintf(&b, `<td class="cell %s" data-task="%s" data-run="%s" data-state="%s"><a href="%s" title="%s"><span class="sr">%s</span></a></td>`,
			esc(stateClass(ti.State)), esc(taskID), esc(run.RunID), esc(state),
			esc(s.uiURL("dags", dagID, "runs", run.RunID, "tasks", taskID)),
			esc(fmt.Sprintf("%s · %s · try %d", taskID, state, ti.TryNumber)), esc(state))
	}
	return template.HTML(b.String())
}

// runTIs reads the task instances of the given runs, out of dagRuns runs
// of the DAG in all: one query for the DAG when the runs are all of them
// (or most), else one per run, so a grid of the latest runs does not read
// a long history.
func (s *Server) runTIs(ctx context.Context, dagID string, runs []store.DagRun, dagRuns int) (map[store.TIKey]store.TaskInstance, error) {
	out := map[store.TIKey]store.TaskInstance{}
	var lists [][]store.TaskInstance
	if len(runs) > 1 && len(runs)*2 >= dagRuns {
		tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{DagID: dagID})
		if err != nil {
			return nil, err
		}
		lists = append(lists, tis)
	} else {
		for _, run := range runs {
			tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{DagID: dagID, RunID: run.RunID})
			if err != nil {
				return nil, err
			}
			lists = append(lists, tis)
		}
	}
	shown := map[string]bool{}
	for _, run := range runs {
		shown[run.RunID] = true
	}
	for _, tis := range lists {
		for _, ti := range tis {
			if shown[ti.RunID] {
				out[ti.TIKey] = ti
			}
		}
	}
	return out, nil
}

// taskOrder lists task IDs upstream first when the definition is loaded;
// otherwise (the file fails to load) the tasks the runs have, by ID.
func taskOrder(def *dag.DAG, tis map[store.TIKey]store.TaskInstance) []string {
	var ids []string
	if def != nil {
		for _, t := range def.TopoOrder() {
			ids = append(ids, t.ID)
		}
		return ids
	}
	for k := range tis {
		if !slices.Contains(ids, k.TaskID) {
			ids = append(ids, k.TaskID)
		}
	}
	slices.Sort(ids)
	return ids
}

// paramsJSON is the DAG's params as indented JSON, the trigger form's
// starting conf.
func paramsJSON(def *dag.DAG) string {
	if len(def.Params) == 0 {
		return "{}"
	}
	raw, err := ctyjson.SimpleJSONValue{Value: cty.ObjectVal(def.Params)}.MarshalJSON()
	if err != nil {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// uiTrigger is the trigger form: conf as a JSON object and an optional
// run ID, validated and recorded exactly as the API's POST dagRuns.
func (s *Server) uiTrigger(w http.ResponseWriter, r *http.Request) {
	dagID := r.PathValue("dag_id")
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d, err := s.requireDefinition(dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	conf, runID := strings.TrimSpace(r.PostForm.Get("conf")), strings.TrimSpace(r.PostForm.Get("dag_run_id"))
	var body triggerBody
	if conf != "" {
		dec := json.NewDecoder(strings.NewReader(conf))
		if err := dec.Decode(&body.Conf); err != nil || dec.More() {
			s.triggerFailed(w, r, conf, runID, badRequest("Conf must be a JSON object, such as {\"table\": \"orders\"}."))
			return
		}
	}
	if runID != "" {
		body.DagRunID = &runID
	}
	if _, err := s.triggerRun(r, d, body, "ui.trigger"); err != nil {
		s.triggerFailed(w, r, conf, runID, err)
		return
	}
	s.redirectBack(w, r, s.uiURL("dags", dagID, "grid"))
}

// triggerFailed shows the grid again with the form as sent and the
// reason, so a typo in the JSON costs no retyping.
func (s *Server) triggerFailed(w http.ResponseWriter, r *http.Request, conf, runID string, cause error) {
	ae, ok := cause.(*apiError)
	if !ok {
		s.uiFail(w, r, cause)
		return
	}
	v, err := s.gridView(r, r.PathValue("dag_id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Conf, v.RunID, v.TriggerError = conf, runID, ae.detail
	s.render(w, r, ae.status, "grid", uiPage{Title: v.DAG.DagID, Nav: "dags", Data: v})
}
