package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"net/url"
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
	DAG    store.DAG
	Loaded bool           // the definition is loaded: trigger works
	Runs   []store.DagRun // oldest first, as columns left to right
	// Header is the runs' <th> elements, written by gridHeader for the
	// same reason as the cells.
	Header    template.HTML
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
	runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, Desc: true, Limit: n})
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
	tis, err := s.tiStatuses(ctx, dagID, runs)
	if err != nil {
		return gridView{}, err
	}
	for _, run := range runs {
		if run.State == store.RunQueued || run.State == store.RunRunning {
			v.RefreshMS = refreshActiveMS
		}
	}
	cols := s.gridColumns(dagID, runs)
	var b strings.Builder
	s.gridHeader(&b, runs)
	v.Header = template.HTML(b.String())
	var seen []string
	if def == nil {
		for k := range tis {
			seen = append(seen, k.task)
		}
	}
	for _, id := range taskOrder(def, seen) {
		b.Reset()
		gridCells(&b, id, cols, tis)
		v.Rows = append(v.Rows, gridRow{TaskID: id, Cells: template.HTML(b.String())})
	}
	return v, nil
}

// runTask keys a task instance of one DAG.
type runTask struct{ run, task string }

// gridColumn is what every cell of a run's column shares, escaped once
// per page rather than once per cell.
type gridColumn struct {
	runID   string
	escHref string // HTML-escaped URL of the run's tasks, up to the last "/"
}

func (s *Server) gridColumns(dagID string, runs []store.DagRun) []gridColumn {
	cols := make([]gridColumn, len(runs))
	for i, run := range runs {
		cols[i] = gridColumn{runID: run.RunID,
			escHref: html.EscapeString(s.uiURL("dags", dagID, "runs", run.RunID, "tasks") + "/")}
	}
	return cols
}

// gridHeader writes a column head per run: coloured by state, linking to
// the run, with its date in the UI timezone.
func (s *Server) gridHeader(b *strings.Builder, runs []store.DagRun) {
	esc := html.EscapeString
	for _, run := range runs {
		class, state, runID := esc(stateClass(run.State)), esc(string(run.State)), esc(run.RunID)
		for _, part := range []string{
			`<th class="run `, class, `" data-run="`, runID, `" data-state="`, state, "\">\n  <a href=\"",
			esc(s.uiURL("dags", run.DagID, "runs", run.RunID)), `" title="`, runID, ` · `, state, ` · `, esc(s.uiTime(run.LogicalDate)),
			`"><span class="swatch"></span><span class="rundate">`, esc(s.uiShortTime(run.LogicalDate)), `</span></a></th>`,
		} {
			b.WriteString(part)
		}
	}
}

// gridCells writes one task's cells, one per run: coloured by state,
// linking to the task instance, with the state for screen readers and
// scripts. A 100-run grid has 5,000 cells, so each is appended in pieces
// escaped once per page (formatting and escaping every cell whole was
// most of the page's time), and the run is left to the column head.
func gridCells(b *strings.Builder, taskID string, cols []gridColumn, tis map[runTask]store.TIStatus) {
	// A row has few distinct states: their class and text are worked out
	// once each.
	type stateText struct{ class, text string }
	states := map[store.TIState]stateText{}
	escTask := html.EscapeString(taskID)
	escTaskPath := html.EscapeString(url.PathEscape(taskID))
	for _, col := range cols {
		ti, ok := tis[runTask{col.runID, taskID}]
		if !ok {
			b.WriteString(`<td class="cell absent"></td>`)
			continue
		}
		st, ok := states[ti.State]
		if !ok {
			st = stateText{html.EscapeString(stateClass(ti.State)), html.EscapeString(ti.State.String())}
			states[ti.State] = st
		}
		class, state := st.class, st.text
		for _, part := range []string{
			`<td class="cell `, class, `" data-task="`, escTask, `" data-state="`, state, `"><a href="`, col.escHref, escTaskPath,
			`" title="`, escTask, ` · `, state, ` · try `, strconv.Itoa(ti.TryNumber),
			`"><span class="sr">`, state, `</span></a></td>`,
		} {
			b.WriteString(part)
		}
	}
}

// tiStatuses reads the state of the given runs' task instances: only the
// columns the grid and graph show, in one query.
func (s *Server) tiStatuses(ctx context.Context, dagID string, runs []store.DagRun) (map[runTask]store.TIStatus, error) {
	ids := make([]string, len(runs))
	for i, run := range runs {
		ids[i] = run.RunID
	}
	list, err := s.store.ListTIStatuses(ctx, dagID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[runTask]store.TIStatus, len(list))
	for _, st := range list {
		out[runTask{st.RunID, st.TaskID}] = st
	}
	return out, nil
}

// taskOrder lists task IDs upstream first when the definition is loaded;
// otherwise (the file fails to load) the tasks the runs have (seen, with
// repeats), by ID.
func taskOrder(def *dag.DAG, seen []string) []string {
	if def != nil {
		var ids []string
		for _, t := range def.TopoOrder() {
			ids = append(ids, t.ID)
		}
		return ids
	}
	ids := slices.Clone(seen)
	slices.Sort(ids)
	return slices.Compact(ids)
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
