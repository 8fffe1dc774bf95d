package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// dagRow is one line of the DAG list.
type dagRow struct {
	store.DAG
	LastRun    *store.DagRun
	NextRun    time.Time
	HasErrors  bool
	TaskCount  int
	Loaded     bool // the webserver has the definition (trigger needs it)
	PausedNext string
}

type dagListView struct {
	Rows         []dagRow
	Query        string
	Tags         []string
	ImportErrors []importErrorJSON
	Total        int
	// Paging: each row costs two store reads, so a big installation is
	// shown a page at a time.
	Page, Pages      int
	PrevURL, NextURL string
}

// dagPageSize is the DAG list's page length.
const dagPageSize = 100

// uiDAGs is the DAG list (/ and /dags): search by ID substring (q) and
// tags, as the API's dag_id_pattern and tags filters do.
func (s *Server) uiDAGs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	f := dagFilter{onlyActive: true, pattern: strings.ToLower(q), tags: r.URL.Query()["tags"]}
	all, err := s.store.ListDAGs(ctx)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	matched := slices.DeleteFunc(all, func(d store.DAG) bool { return !f.match(d) })
	sortDAGs(matched, "dag_id", false)
	importErrs, err := s.importErrors(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	errFiles := map[string]bool{}
	for _, e := range importErrs {
		errFiles[e.Filename] = true
	}
	v := dagListView{Query: q, Tags: f.tags, ImportErrors: importErrs, Total: len(matched), Page: 1}
	v.Pages = max(1, (len(matched)+dagPageSize-1)/dagPageSize)
	if raw := r.URL.Query().Get("page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			s.uiFail(w, r, badRequest("page=%q: want a whole number from 1.", raw))
			return
		}
		v.Page = min(n, v.Pages)
	}
	pageURL := func(n int) string {
		qs := r.URL.Query()
		qs.Set("page", strconv.Itoa(n))
		return s.uiURL("dags") + "?" + qs.Encode()
	}
	if v.Page > 1 {
		v.PrevURL = pageURL(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.NextURL = pageURL(v.Page + 1)
	}
	for _, d := range slicePage(matched, page{limit: dagPageSize, offset: (v.Page - 1) * dagPageSize}) {
		row := dagRow{DAG: d, HasErrors: errFiles[d.FileLoc], PausedNext: fmt.Sprint(!d.IsPaused)}
		runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: d.DagID, Desc: true, Limit: 1})
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		if len(runs) > 0 {
			row.LastRun = &runs[0]
		}
		if def := s.definition(d.DagID); def != nil {
			row.Loaded, row.TaskCount = true, len(def.Tasks)
			// fillNextRun is the API's next_dagrun; the page shows the same.
			var j dagJSON
			if err := s.fillNextRun(ctx, def, &j); err != nil {
				s.uiFail(w, r, err)
				return
			}
			row.NextRun = time.Time(j.NextDagrun)
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, http.StatusOK, "dags", uiPage{Title: "DAGs", Nav: "dags", Data: v})
}

// uiSetPaused is the pause toggle: POST is_paused=true|false.
func (s *Server) uiSetPaused(w http.ResponseWriter, r *http.Request) {
	dagID := r.PathValue("dag_id")
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	var paused bool
	switch r.PostForm.Get("is_paused") {
	case "true":
		paused = true
	case "false":
	default:
		s.uiFail(w, r, badRequest("Field is_paused must be true or false."))
		return
	}
	if _, err := s.storeDAG(r.Context(), dagID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if err := s.store.SetDAGPaused(r.Context(), dagID, paused); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "ui.pause", DagID: dagID, Extra: fmt.Sprintf("is_paused=%t", paused)})
	s.redirectBack(w, r, s.backTo(r, s.uiURL("dags")))
}

// backTo is the form's "back" field when it is a path on this server (the
// page the form was on), else def; never another site.
func (s *Server) backTo(r *http.Request, def string) string {
	back := r.PostForm.Get("back")
	u, err := url.Parse(back)
	if back == "" || err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, s.base+"/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		return def
	}
	return back
}

// uiImportErrors lists the DAG files that fail to load, file:line first.
func (s *Server) uiImportErrors(w http.ResponseWriter, r *http.Request) {
	errs, err := s.importErrors(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "import_errors", uiPage{Title: "Import errors", Nav: "import-errors", Data: errs})
}
