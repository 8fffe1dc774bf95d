package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/airctl/airctl/workflow/store"
)

type runView struct {
	Run  store.DagRun
	Conf string
	TIs  []store.TaskInstance // in task order
}

// uiRun shows one run: its dates, conf and task instances, and the form
// that clears it.
func (s *Server) uiRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dagID := r.PathValue("dag_id")
	run, err := s.getRun(ctx, dagID, r.PathValue("dag_run_id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	list, err := s.store.ListTaskInstances(ctx, store.TIFilter{DagID: dagID, RunID: run.RunID})
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v := runView{Run: run, Conf: "{}"}
	if len(run.Conf) > 0 {
		if b, err := json.MarshalIndent(run.Conf, "", "  "); err == nil {
			v.Conf = string(b)
		}
	}
	tis := make(map[string]store.TaskInstance, len(list))
	var seen []string
	for _, ti := range list {
		tis[ti.TaskID] = ti
		seen = append(seen, ti.TaskID)
	}
	for _, id := range taskOrder(s.definition(dagID), seen) {
		if ti, ok := tis[id]; ok {
			v.TIs = append(v.TIs, ti)
		}
	}
	s.render(w, r, http.StatusOK, "run", uiPage{Title: run.RunID, Nav: "dags", Data: v})
}

// uiClearRun clears a run's task instances (only the failed ones unless
// only_failed is unchecked) and queues the run again.
func (s *Server) uiClearRun(w http.ResponseWriter, r *http.Request) {
	dagID, runID := r.PathValue("dag_id"), r.PathValue("dag_run_id")
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d, err := s.requireDefinition(dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	onlyFailed, dry := r.PostForm.Get("only_failed") == "true", false
	body := clearBody{DagRunID: &runID, OnlyFailed: &onlyFailed, DryRun: &dry}
	if _, _, err := s.clearSelected(r, d, body, "ui.clear"); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.redirectBack(w, r, s.uiURL("dags", dagID, "runs", runID))
}

type taskView struct {
	Run     store.DagRun
	TI      store.TaskInstance
	Try     int
	Tries   []int
	Log     string
	Token   string // where the live log continues
	Live    bool   // the try may still write to its log
	Latest  bool   // the page shows the latest try (a new one replaces it)
	LogURL  string // the API route static/aird.js polls
	TIURL   string // the API route it polls for the state
	HasDefn bool
	// Truncated: the log is longer than one chunk; the rest is in the
	// API's full_content answer.
	Truncated   bool
	Placeholder bool
}

// uiTask shows a task instance and the log of one try (?try=N, the latest
// by default). While the task runs, static/aird.js follows the log through
// the API with its continuation token.
func (s *Server) uiTask(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dagID, runID, taskID := r.PathValue("dag_id"), r.PathValue("dag_run_id"), r.PathValue("task_id")
	run, err := s.getRun(ctx, dagID, runID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	ti, err := s.getTI(ctx, store.TIKey{DagID: dagID, RunID: runID, TaskID: taskID})
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	latest := max(ti.TryNumber, 1)
	try := latest
	if raw := r.URL.Query().Get("try"); raw != "" {
		if try, err = strconv.Atoi(raw); err != nil || try < 1 || try > latest {
			s.uiFail(w, r, badRequest("try=%q: this task instance has tries 1 to %d.", raw, latest))
			return
		}
	}
	// One chunk, as the API gives: a huge log must not stall the page.
	content, next, err := s.tryLogCtx(ctx, run, ti, try, 0, false)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	api := s.uiURL("api", "v1", "dags", dagID, "dagRuns", runID, "taskInstances", taskID)
	v := taskView{
		Run: run, TI: ti, Try: try, Log: content, Token: encodeLogToken(next),
		Live:      try == latest && !ti.State.Finished(),
		Latest:    try == latest,
		Truncated: next >= logChunk-utf8.UTFMax,
		// Content without progress is tryLog's note that the file does
		// not exist yet: the live view replaces it with the real log.
		Placeholder: next == 0 && content != "",
		LogURL:      api + "/logs/" + strconv.Itoa(try), TIURL: api,
		HasDefn: s.definition(dagID) != nil,
	}
	for i := 1; i <= latest; i++ {
		v.Tries = append(v.Tries, i)
	}
	s.render(w, r, http.StatusOK, "task", uiPage{Title: taskID + " · " + runID, Nav: "dags", Data: v})
}

// uiClearTask clears one task instance (with its downstream tasks when
// asked) whatever its state, so it runs again.
func (s *Server) uiClearTask(w http.ResponseWriter, r *http.Request) {
	dagID, runID, taskID := r.PathValue("dag_id"), r.PathValue("dag_run_id"), r.PathValue("task_id")
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d, err := s.requireDefinition(dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	no := false
	body := clearBody{DagRunID: &runID, TaskIDs: []string{taskID}, OnlyFailed: &no, DryRun: &no,
		IncludeDownstream: r.PostForm.Get("downstream") == "true"}
	if _, _, err := s.clearSelected(r, d, body, "ui.clear"); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.redirectBack(w, r, s.uiURL("dags", dagID, "runs", runID, "tasks", taskID))
}

// uiMarkTask marks a task instance (with its downstream tasks when asked)
// success or failed.
func (s *Server) uiMarkTask(w http.ResponseWriter, r *http.Request) {
	dagID, runID, taskID := r.PathValue("dag_id"), r.PathValue("dag_run_id"), r.PathValue("task_id")
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d, err := s.requireDefinition(dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	no := false
	body := setStateBody{DryRun: &no, TaskID: taskID, DagRunID: &runID, NewState: r.PostForm.Get("new_state"),
		IncludeDownstream: r.PostForm.Get("downstream") == "true"}
	if _, _, err := s.setStates(r, d, body, "ui.mark"); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.redirectBack(w, r, s.uiURL("dags", dagID, "runs", runID, "tasks", taskID))
}
