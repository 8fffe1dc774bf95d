package web

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// uiSession is a signed-in browser for page tests.
type uiSession struct {
	*browser
	csrf string
}

func signIn(t *testing.T, e *env, user string) *uiSession {
	t.Helper()
	b := newBrowser(t, e)
	if resp := b.login(user, testPasswords[user]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, resp.StatusCode)
	}
	s := &uiSession{browser: b}
	_, body := s.get("/dags")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf_token on the DAG list")
	}
	s.csrf = m[1]
	return s
}

func (s *uiSession) get(path string) (int, string) {
	s.t.Helper()
	resp := s.do("GET", path, nil)
	return resp.StatusCode, readBody(s.t, resp)
}

// post sends a form with the session's CSRF token, as the pages do.
func (s *uiSession) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", s.csrf)
	}
	resp := s.do("POST", path, form)
	return resp.StatusCode, readBody(s.t, resp)
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// inlineCode finds inline scripts, inline styles and event handler
// attributes, all of which the CSP blocks.
var inlineCode = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)

// TestUIPagesRender signs in as Admin and opens every page: status, key
// content, no inline code, times in the UI timezone.
func TestUIPagesRender(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.UITimezone = seoul })
	e.trigger("example", map[string]any{"dag_run_id": "run1", "conf": map[string]any{"table": "orders"}})
	e.setTI(store.TIKey{DagID: "example", RunID: "run1", TaskID: "extract"}, store.TISuccess, 1)
	run := e.run("example", "run1")
	logPath := logs.LocalPath(e.logDir, logs.RelPath(store.TIKey{DagID: "example", RunID: "run1", TaskID: "extract"}, run.LogicalDate, 1))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, []byte("extracting <rows>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetVariable(t.Context(), store.Variable{Key: "db_password", Value: "hunter2"}); err != nil {
		t.Fatal(err)
	}
	s := signIn(t, e, "admin")
	pages := []struct {
		path  string
		wants []string
	}{
		{"/", []string{"example", "manual", "@daily", "team-a", "import-errors", "broken.hcl:", "state-queued", "Asia/Seoul", "KST"}},
		{"/dags?q=MAN", []string{`href="/dags/manual/grid"`}},
		{"/dags?tags=team-b", []string{`href="/dags/manual/grid"`}},
		{"/import-errors", []string{"broken.hcl"}},
		{"/dags/example/grid", []string{`data-task="extract"`, "state-success", `data-refresh="2000"`, "trigger-button", `&#34;table&#34;: &#34;events&#34;`}},
		{"/dags/example/graph", []string{"<svg", `data-task="load"`, `class="edge"`, "<td>transform</td>"}},
		{"/dags/example/runs/run1", []string{"run1", "orders", "extract", "Clear run", "KST"}},
		{"/dags/example/runs/run1/tasks/extract", []string{"extracting &lt;rows&gt;", "mark-success", "clear-task", `data-live="false"`}},
		{"/dags/example/runs/run1/tasks/load", []string{"Log file does not exist", `data-live="true"`, `data-placeholder="true"`}},
		{"/variables", []string{"db_password", "***"}},
		{"/pools", []string{"default_pool", "128"}},
		{"/users", []string{"viewer@example.com", "Viewer"}},
	}
	for _, p := range pages {
		code, body := s.get(p.path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p.path, code, body)
			continue
		}
		mustContain(t, p.path, body, p.wants...)
		if m := inlineCode.FindString(body); m != "" {
			t.Errorf("GET %s has inline code the CSP blocks: %q", p.path, m)
		}
	}
	if _, body := s.get("/dags?q=MAN"); strings.Contains(body, `href="/dags/example/grid"`) {
		t.Error("search for MAN lists example")
	}
	if _, body := s.get("/variables"); strings.Contains(body, "hunter2") {
		t.Error("a sensitive variable's value is on the list")
	}
	for _, p := range []string{"/dags/nope/grid", "/dags/example/runs/nope", "/dags/example/runs/run1/tasks/nope"} {
		if code, body := s.get(p); code != http.StatusNotFound || !strings.Contains(body, "not found") {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code, _ := s.get("/dags/example/runs/run1/tasks/extract?try=9"); code != http.StatusBadRequest {
		t.Errorf("try=9: %d", code)
	}
}

// TestUIViewerDenials: a Viewer reads pages but sees no action buttons,
// and the gate refuses the actions even with a valid CSRF token.
func TestUIViewerDenials(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "run1"})
	s := signIn(t, e, "viewer")
	code, body := s.get("/dags/example/grid")
	if code != http.StatusOK {
		t.Fatalf("grid: %d", code)
	}
	for _, absent := range []string{"trigger-button", `id="pause"`, `href="/variables"`, `href="/users"`} {
		if strings.Contains(body, absent) {
			t.Errorf("viewer's grid shows %s", absent)
		}
	}
	if _, body := s.get("/dags/example/runs/run1/tasks/extract"); strings.Contains(body, "mark-success") || strings.Contains(body, "clear-task") {
		t.Error("viewer's task page shows actions")
	}
	for _, p := range []string{"/dags/example/trigger", "/dags/example/paused", "/dags/example/runs/run1/clear",
		"/dags/example/runs/run1/tasks/extract/clear", "/dags/example/runs/run1/tasks/extract/mark", "/variables", "/pools"} {
		if code, _ := s.post(p, url.Values{"is_paused": {"true"}, "new_state": {"success"}, "name": {"p"}, "slots": {"1"}, "key": {"k"}}); code != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", p, code)
		}
	}
	for _, p := range []string{"/variables", "/users"} {
		if code, _ := s.get(p); code != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d, want 403", p, code)
		}
	}
	if runs, _, _ := e.st.ListDagRuns(t.Context(), store.DagRunFilter{DagID: "example"}); len(runs) != 1 {
		t.Errorf("%d runs after refused triggers", len(runs))
	}
}

// TestUIFormsNeedCSRFToken: a session form without the token is refused
// before it acts.
func TestUIFormsNeedCSRFToken(t *testing.T) {
	e := newEnv(t)
	s := signIn(t, e, "admin")
	for _, p := range []string{"/dags/manual/trigger", "/dags/example/paused", "/variables", "/pools"} {
		form := url.Values{"csrf_token": {"forged"}, "is_paused": {"true"}, "key": {"k"}}
		if code, body := s.post(p, form); code != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d %s", p, code, body)
		}
	}
	// No token at all.
	if resp := s.do("POST", "/dags/manual/trigger", url.Values{"conf": {"{}"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST trigger without a token: %d", resp.StatusCode)
	}
	if runs, _, _ := e.st.ListDagRuns(t.Context(), store.DagRunFilter{DagID: "manual"}); len(runs) != 0 {
		t.Error("a forged form triggered a run")
	}
	if code, _ := s.get("/dags"); code != http.StatusOK {
		t.Errorf("session after a forged logout: %d", code)
	}
}

// TestUITrigger: the form's conf is validated like the API's; a bad one
// shows the form again with the input kept.
func TestUITrigger(t *testing.T) {
	e := newEnv(t)
	s := signIn(t, e, "user")
	code, body := s.post("/dags/example/trigger", url.Values{"conf": {`{"table": "orders"`}})
	if code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", code)
	}
	mustContain(t, "bad conf answer", body, "Conf must be a JSON object", "&#34;orders&#34;")
	code, body = s.post("/dags/example/trigger", url.Values{"conf": {`{"rows": "ten"}`}})
	if code != http.StatusBadRequest || !strings.Contains(body, "rows") {
		t.Fatalf("conf not fitting params: %d", code)
	}
	resp := s.do("POST", "/dags/example/trigger", url.Values{"csrf_token": {s.csrf}, "conf": {`{"table": "orders"}`}, "dag_run_id": {"from_ui"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dags/example/grid" {
		t.Fatalf("trigger: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if run := e.run("example", "from_ui"); run.Conf["table"] != "orders" || run.State != store.RunQueued {
		t.Fatalf("run %+v", run)
	}
	if ev := e.events("ui.trigger"); len(ev) != 1 || ev[0].Owner != "user" {
		t.Fatalf("events %+v", ev)
	}
	if code, _ := s.post("/dags/example/trigger", url.Values{"dag_run_id": {"from_ui"}}); code != http.StatusConflict {
		t.Errorf("duplicate run ID: %d", code)
	}
}

// TestUIClearAndMark clears a task with its downstream tasks and marks
// one, through the forms.
func TestUIClearAndMark(t *testing.T) {
	e := newEnv(t)
	e.trigger("example", map[string]any{"dag_run_id": "run1"})
	for _, id := range []string{"extract", "transform", "load"} {
		e.setTI(store.TIKey{DagID: "example", RunID: "run1", TaskID: id}, store.TISuccess, 1)
	}
	s := signIn(t, e, "user")
	code, _ := s.post("/dags/example/runs/run1/tasks/transform/clear", url.Values{"downstream": {"true"}})
	if code != http.StatusSeeOther {
		t.Fatalf("clear: %d", code)
	}
	for id, want := range map[string]store.TIState{"extract": store.TISuccess, "transform": store.TINone, "load": store.TINone} {
		if got := e.ti("example", "run1", id).State; got != want {
			t.Errorf("%s after clear: %s, want %s", id, got, want)
		}
	}
	if code, _ := s.post("/dags/example/runs/run1/tasks/load/mark", url.Values{"new_state": {"failed"}}); code != http.StatusSeeOther {
		t.Fatalf("mark: %d", code)
	}
	if got := e.ti("example", "run1", "load").State; got != store.TIFailed {
		t.Errorf("load after mark failed: %s", got)
	}
	if code, _ := s.post("/dags/example/runs/run1/tasks/load/mark", url.Values{"new_state": {"bogus"}}); code != http.StatusBadRequest {
		t.Errorf("mark bogus: %d", code)
	}
	// Clearing the run takes only failed tasks by default.
	if code, _ := s.post("/dags/example/runs/run1/clear", url.Values{"only_failed": {"true"}}); code != http.StatusSeeOther {
		t.Fatalf("clear run: %d", code)
	}
	if got := e.ti("example", "run1", "load").State; got != store.TINone {
		t.Errorf("load after clearing the run: %s", got)
	}
	if got := e.ti("example", "run1", "extract").State; got != store.TISuccess {
		t.Errorf("extract after clearing failed tasks: %s", got)
	}
	if len(e.events("ui.clear")) != 2 || len(e.events("ui.mark")) != 1 {
		t.Error("clear and mark not audited")
	}
}

// TestUIPauseToggle pauses from the list and unpauses from the grid.
func TestUIPauseToggle(t *testing.T) {
	e := newEnv(t)
	s := signIn(t, e, "user")
	if code, _ := s.post("/dags/example/paused", url.Values{"is_paused": {"true"}}); code != http.StatusSeeOther {
		t.Fatalf("pause: %d", code)
	}
	if d, _ := e.st.GetDAG(t.Context(), "example"); !d.IsPaused {
		t.Fatal("not paused")
	}
	resp := s.do("POST", "/dags/example/paused", url.Values{"csrf_token": {s.csrf}, "is_paused": {"false"}, "back": {"/dags/example/grid"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dags/example/grid" {
		t.Fatalf("unpause: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if d, _ := e.st.GetDAG(t.Context(), "example"); d.IsPaused {
		t.Fatal("still paused")
	}
	// back must stay on this site.
	resp = s.do("POST", "/dags/example/paused", url.Values{"csrf_token": {s.csrf}, "is_paused": {"false"}, "back": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/dags" {
		t.Fatalf("back=//evil.example/ redirected to %q", loc)
	}
	if code, _ := s.post("/dags/example/paused", url.Values{"is_paused": {"maybe"}}); code != http.StatusBadRequest {
		t.Errorf("is_paused=maybe: %d", code)
	}
}

// TestUIVariablesAndPools: Op edits both; a User may read pools only.
func TestUIVariablesAndPools(t *testing.T) {
	e := newEnv(t)
	s := signIn(t, e, "op")
	if code, _ := s.post("/variables", url.Values{"key": {"region"}, "value": {"asia-northeast3"}, "description": {"GCP region"}}); code != http.StatusSeeOther {
		t.Fatalf("set variable: %d", code)
	}
	if _, body := s.get("/variables?edit=region"); !strings.Contains(body, "asia-northeast3") || !strings.Contains(body, "Edit region") {
		t.Error("edit form does not show the variable")
	}
	if code, _ := s.post("/variables/region/delete", nil); code != http.StatusSeeOther {
		t.Fatalf("delete variable: %d", code)
	}
	if _, err := e.st.GetVariable(t.Context(), "region"); err == nil {
		t.Error("variable not deleted")
	}
	if code, _ := s.post("/pools", url.Values{"name": {"gpu"}, "slots": {"4"}}); code != http.StatusSeeOther {
		t.Fatalf("create pool: %d", code)
	}
	if p, err := e.st.GetPool(t.Context(), "gpu"); err != nil || p.Slots != 4 {
		t.Fatalf("pool %+v %v", p, err)
	}
	if code, _ := s.post("/pools", url.Values{"name": {"gpu"}, "slots": {"-1"}}); code != http.StatusBadRequest {
		t.Errorf("negative slots: %d", code)
	}
	if code, _ := s.post("/pools/default_pool/delete", nil); code != http.StatusBadRequest {
		t.Errorf("delete default pool: %d", code)
	}
	if code, _ := s.post("/pools/gpu/delete", nil); code != http.StatusSeeOther {
		t.Errorf("delete pool: %d", code)
	}
	u := signIn(t, e, "user")
	if code, body := u.get("/pools"); code != http.StatusOK || strings.Contains(body, "Add a pool") {
		t.Errorf("user's pool page: %d, edit form shown: %t", code, strings.Contains(body, "Add a pool"))
	}
	if code, _ := u.get("/variables"); code != http.StatusForbidden {
		t.Errorf("user reading variables: %d", code)
	}
}

// TestUIStaticAssets are public, cacheable and not listed.
func TestUIStaticAssets(t *testing.T) {
	e := newEnv(t)
	w := e.as("", "GET", "/static/aird.css", nil)
	expect(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("no CSP on a static answer")
	}
	expect(t, e.as("", "GET", "/static/aird.js", nil), http.StatusOK)
	expect(t, e.as("", "GET", "/static/", nil), http.StatusNotFound)
	expect(t, e.as("", "GET", "/static/nope.css", nil), http.StatusNotFound)
	// The login page links them with a cache-busting version.
	body := e.as("", "GET", "/login", nil).Body.String()
	if !regexp.MustCompile(`href="/static/aird.css\?v=[0-9a-f]{12}"`).MatchString(body) {
		t.Errorf("login page does not link the stylesheet: %s", body)
	}
}

// TestUIBaseURL: pages and links live under base_url's path.
func TestUIBaseURL(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.BaseURL = "http://aird.example/airflow" })
	w := e.as("admin", "GET", "/airflow/dags", nil)
	expect(t, w, http.StatusOK)
	mustContain(t, "DAG list under a base URL", w.Body.String(), `href="/airflow/dags/example/grid"`, `href="/airflow/static/aird.css?v=`)
	expect(t, e.as("", "GET", "/airflow/static/aird.js", nil), http.StatusOK)
}

// TestUIDAGListPages: a long list is shown a page at a time, keeping the
// search in the page links.
func TestUIDAGListPages(t *testing.T) {
	e := newEnv(t)
	for i := range dagPageSize + 5 {
		d := store.DAG{DagID: fmt.Sprintf("bulk_%03d", i), FileLoc: "bulk.hcl", IsActive: true, LastParsedAt: time.Now()}
		if err := e.st.UpsertDAG(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	s := signIn(t, e, "viewer")
	_, body := s.get("/dags?q=bulk")
	mustContain(t, "page 1", body, "bulk_000", "bulk_099", "Page 1 of 2", `href="/dags?page=2&amp;q=bulk"`)
	if strings.Contains(body, "bulk_100") {
		t.Error("page 1 shows row 101")
	}
	_, body = s.get("/dags?q=bulk&page=2")
	mustContain(t, "page 2", body, "bulk_100", "bulk_104", "Page 2 of 2", `rel="prev"`)
	if code, _ := s.get("/dags?page=0"); code != http.StatusBadRequest {
		t.Errorf("page=0: %d", code)
	}
}

// TestGridCellsEscape: the grid's cells are written outside the template
// engine, so they must escape IDs themselves (IDs are validated at load
// and trigger, but the page must not depend on it).
func TestGridCellsEscape(t *testing.T) {
	e := newEnv(t)
	run := store.DagRun{DagID: "d", RunID: `r"><script>x</script>`}
	k := store.TIKey{DagID: "d", RunID: run.RunID, TaskID: `t'<b>`}
	var b strings.Builder
	gridCells(&b, k.TaskID, e.srv.gridColumns("d", []store.DagRun{run, {DagID: "d", RunID: "other"}}),
		map[runTask]store.TIStatus{{run.RunID, k.TaskID}: {RunID: run.RunID, TaskID: k.TaskID, State: store.TISuccess, TryNumber: 1}})
	got := b.String()
	if strings.Contains(got, "<script>") || strings.Contains(got, "<b>") || strings.Contains(got, `data-run="r">`) {
		t.Fatalf("unescaped: %s", got)
	}
	b.Reset()
	e.srv.gridHeader(&b, []store.DagRun{run})
	if head := b.String(); strings.Contains(head, "<script>") || !strings.Contains(head, `data-run="r&#34;&gt;&lt;script&gt;`) {
		t.Fatalf("header unescaped: %s", head)
	}
	mustContain(t, "cells", got, `class="cell state-success"`, `data-task="t&#39;&lt;b&gt;"`, `href="/dags/d/runs/r%22%3E%3Cscript%3Ex%3C%2Fscript%3E/tasks/t%27%3Cb%3E"`, `<td class="cell absent"></td>`)
}
