package web

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// memLogs is a bucket of shipped logs by relative path.
type memLogs map[string]string

func (m memLogs) Open(_ context.Context, rel string) (io.ReadCloser, error) {
	s, ok := m[rel]
	if !ok {
		return nil, fmt.Errorf("no object %s: %w", rel, fs.ErrNotExist)
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// Once the local file is deleted after upload, the endpoint serves the
// shipped copy, and a client following with a token continues where the
// local file left off.
func TestTaskLogFallsBackToShippedCopy(t *testing.T) {
	shipped := memLogs{}
	e := newEnv(t, func(o *Options) { o.RemoteLogs = shipped })
	run := e.trigger("example", map[string]any{"dag_run_id": "r1", "logical_date": "2024-05-06T07:08:09Z"})
	k := store.TIKey{DagID: "example", RunID: "r1", TaskID: "extract"}
	e.setTI(k, store.TIRunning, 1)
	f, err := logs.Create(e.logDir, k, time.Time(run.LogicalDate), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("line one\n"); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/dags/example/dagRuns/r1/taskInstances/extract/logs/1"
	first := decode[map[string]string](t, e.as("viewer", "GET", path, nil))
	if first["content"] != "line one\n" {
		t.Fatalf("local log %q", first["content"])
	}
	whole := "line one\nline two\n[2024-05-06T07:09:00Z] aird: task ended: exit status 0 → success\n"
	if _, err := f.WriteString(strings.TrimPrefix(whole, "line one\n")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rel := logs.RelPath(k, time.Time(run.LogicalDate), 1)
	shipped[rel] = whole
	if err := os.Remove(logs.LocalPath(e.logDir, rel)); err != nil {
		t.Fatal(err)
	}
	more := decode[map[string]string](t, e.as("viewer", "GET", path+"?token="+first["continuation_token"], nil))
	if more["content"] != strings.TrimPrefix(whole, "line one\n") {
		t.Fatalf("continuation from the shipped copy %q", more["content"])
	}
	end := decode[map[string]string](t, e.as("viewer", "GET", path+"?token="+more["continuation_token"], nil))
	if end["content"] != "" || end["continuation_token"] != more["continuation_token"] {
		t.Fatalf("past the end: %q", end)
	}
	full := decode[map[string]string](t, e.as("viewer", "GET", path+"?full_content=true", nil))
	if full["content"] != whole {
		t.Fatalf("full shipped log %q", full["content"])
	}
	// Neither local nor shipped: Airflow's note, as before.
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "load"}, store.TINone, 0)
	nolog := decode[map[string]string](t, e.as("viewer", "GET", "/api/v1/dags/example/dagRuns/r1/taskInstances/load/logs/1", nil))
	if !strings.Contains(nolog["content"], "Log file does not exist") {
		t.Fatalf("missing log: %q", nolog["content"])
	}
}
