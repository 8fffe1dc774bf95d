package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// testDAGs: a scheduled DAG with a chain and params, a manual one, and a
// broken file for import errors.
var testDAGs = map[string]string{
	"example.hcl": `
dag "example" {
  description = "an example"
  schedule    = "@daily"
  start_date  = "2024-01-01"
  tags        = ["example", "team-a"]
  params      = { table = "events", rows = 10 }
  task "extract" {
    command = "echo extract"
  }
  task "transform" {
    command    = "echo transform"
    retries    = 2
    depends_on = [task.extract]
  }
  task "load" {
    command    = "echo load"
    depends_on = [task.transform]
  }
}
`,
	"manual.hcl": `
dag "manual" {
  tags = ["team-b"]
  task "only" {
    command = "echo hi"
  }
}
`,
	"broken.hcl": "dag \"broken\" {\n  task \"t\" {\n    command = \n  }\n}\n",
}

// testPasswords: one user per role, username = lower-case role.
var testPasswords = map[string]string{"admin": "admin-pass", "op": "op-pass-1", "user": "user-pass", "viewer": "viewer-pass"}

type env struct {
	t      testing.TB
	srv    *Server
	st     store.Store
	dir    string // DAG folder
	logDir string
	bag    *dag.Bag
}

type envOption func(*Options)

// newEnv opens a migrated SQLite store in a temp dir, loads the test DAGs
// through the scheduler's DAG folder (so the store holds exactly what a
// scheduler would record), creates one user per role and builds a server.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, dir: filepath.Join(root, "dags"), logDir: filepath.Join(root, "logs")}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range testDAGs {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.loadDAGs()
	for name := range testPasswords {
		role, _ := ParseRole(name)
		if _, _, err := CreateUser(ctx, st, NewUser{Username: name, Email: name + "@example.com", Role: string(role), Password: testPasswords[name], Cost: bcrypt.MinCost}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv = e.newServer(opts...)
	return e
}

// newServer builds a server on the environment's store: another process,
// or the same one restarted.
func (e *env) newServer(opts ...envOption) *Server {
	e.t.Helper()
	o := Options{
		Store: e.st, DAGs: func() *dag.Bag { return e.bag }, LogDir: e.logDir, Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, fn := range opts {
		fn(&o)
	}
	srv, err := newServer(o)
	if err != nil {
		e.t.Fatal(err)
	}
	srv.setDummyCost(bcrypt.MinCost)
	return srv
}

// loadDAGs (re)loads the folder into the store, as the scheduler does.
func (e *env) loadDAGs() {
	e.t.Helper()
	s := scheduler.New(scheduler.Config{}, e.st, queue.NewLocal(), slog.New(slog.DiscardHandler))
	b, err := scheduler.NewDAGFolder(e.dir, false).Load(context.Background(), s)
	if err != nil {
		e.t.Fatal(err)
	}
	e.bag = b
}

// req builds a request; body is sent as is when a string, else as JSON.
func req(method, target string, body any) *http.Request {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// serve runs a request through the server.
func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

// as sends a request with Basic auth for one of the test users ("" for none).
func (e *env) as(user, method, target string, body any) *httptest.ResponseRecorder {
	r := req(method, target, body)
	if user != "" {
		r.SetBasicAuth(user, testPasswords[user])
	}
	return e.serve(r)
}

// expect fails unless the answer has the status, showing the body.
func expect(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body: %s", w.Code, status, w.Body.String())
	}
}

// decode parses a JSON answer.
func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

// expectProblem checks a problem-JSON error and that detail mentions want.
func expectProblem(t testing.TB, w *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	expect(t, w, status)
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := decode[problem](t, w)
	if p.Status != status || p.Title == "" || !strings.Contains(p.Type, "#section/Errors/") {
		t.Fatalf("problem %+v", p)
	}
	if !strings.Contains(p.Detail, want) {
		t.Fatalf("detail %q does not mention %q", p.Detail, want)
	}
}

// trigger creates a run through the API and returns it.
func (e *env) trigger(dagID string, body map[string]any) dagRunJSON {
	e.t.Helper()
	w := e.as("user", "POST", "/api/v1/dags/"+dagID+"/dagRuns", body)
	expect(e.t, w, http.StatusOK)
	return decode[dagRunJSON](e.t, w)
}

// setTI forces a task instance's state and try in the store.
func (e *env) setTI(k store.TIKey, state store.TIState, try int) {
	e.t.Helper()
	_, err := e.st.UpdateTaskInstance(context.Background(), k, func(ti *store.TaskInstance) error {
		ti.State, ti.TryNumber = state, try
		if state.Finished() {
			ti.StartDate, ti.EndDate = time.Now().Add(-time.Second), time.Now()
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) ti(dagID, runID, taskID string) store.TaskInstance {
	e.t.Helper()
	ti, err := e.st.GetTaskInstance(context.Background(), store.TIKey{DagID: dagID, RunID: runID, TaskID: taskID})
	if err != nil {
		e.t.Fatal(err)
	}
	return ti
}

func (e *env) run(dagID, runID string) store.DagRun {
	e.t.Helper()
	r, err := e.st.GetDagRun(context.Background(), dagID, runID)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// events lists the event log entries with that name.
func (e *env) events(name string) []store.Event {
	e.t.Helper()
	evs, err := e.st.ListEvents(context.Background(), store.EventFilter{Event: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
