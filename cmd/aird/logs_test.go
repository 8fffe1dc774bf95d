package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// runIDOf is the run `dags test` printed (first column of its table).
func runIDOf(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(l, "RUN_ID") && len(strings.Fields(lines[i+1])) > 0 {
			return strings.Fields(lines[i+1])[0]
		}
	}
	t.Fatalf("no run in dags test output %q", out)
	return ""
}

func (h *home) runEnv(env []string, args ...string) string {
	h.t.Helper()
	c := h.cmd(args...)
	c.Env = append(c.Env, env...)
	out, err := c.CombinedOutput()
	if err != nil {
		h.t.Fatalf("aird %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// `aird tasks logs` prints a try's local log, and once the worker shipped
// it to the bucket and deleted it (delete_local_logs), the shipped copy.
func TestTasksLogsLocalAndShipped(t *testing.T) {
	h := newHome(t, "1s")
	must(t, os.WriteFile(h.mark, nil, 0o644)) // "work" then exits at once
	runID := runIDOf(t, h.run("dags", "test", "long", "2024-01-01"))
	for _, args := range [][]string{
		{"tasks", "logs", "long", "after", runID},
		{"tasks", "logs", "long", "after", runID, "--try", "1", "-f"}, // finished: printed whole, then returns
	} {
		out := h.run(args...)
		if !strings.Contains(out, "\nafter\n") || !strings.Contains(out, logs.EndMarker) {
			t.Fatalf("aird %v: %q", args, out)
		}
	}
	if out, err := h.cmd("tasks", "logs", "long", "after", runID, "--try", "2").CombinedOutput(); err == nil || !strings.Contains(string(out), "try 2 does not exist") {
		t.Fatalf("try 2: %v %s", err, out)
	}

	fake, err := gcpfake.New(gcpfake.Options{Latency: gcpfake.InstantLatency()}).Listen("127.0.0.1:0")
	must(t, err)
	defer fake.Close()
	client, err := storage.NewClient(t.Context(), option.WithEndpoint(fake.Endpoints().Storage), option.WithoutAuthentication())
	must(t, err)
	defer client.Close()
	must(t, client.Bucket("airflow-logs").Create(t.Context(), "p1", nil))
	remote := append(fake.Endpoints().Env(), "AIRD_LOGGING_REMOTE_BASE_LOG_FOLDER=gs://airflow-logs/logs")
	// In the file: config's env overrides do not take plain bools yet.
	cfg, err := os.OpenFile(filepath.Join(h.dir, "aird.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = cfg.WriteString("\nlogging {\n  delete_local_logs = true\n}\n")
	must(t, errors.Join(err, cfg.Close()))

	runID = runIDOf(t, h.runEnv(remote, "dags", "test", "long", "2024-01-02"))
	date := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	rel := logs.RelPath(store.TIKey{DagID: "long", RunID: runID, TaskID: "after"}, date, 1)
	if _, err := os.Stat(logs.LocalPath(filepath.Join(h.dir, "logs"), rel)); !os.IsNotExist(err) {
		t.Fatalf("local log after shipping with delete_local_logs: %v", err)
	}
	attrs, err := client.Bucket("airflow-logs").Object("logs/" + filepath.ToSlash(rel)).Attrs(context.Background())
	if err != nil || attrs.Size == 0 {
		t.Fatalf("shipped object: %v %v", attrs, err)
	}
	out := h.runEnv(remote, "tasks", "logs", "long", "after", runID)
	if !strings.Contains(out, "\nafter\n") || !strings.Contains(out, logs.EndMarker) {
		t.Fatalf("shipped log: %q", out)
	}
	// Without the remote folder configured there is nothing to show.
	if out, err := h.cmd("tasks", "logs", "long", "after", runID).CombinedOutput(); err == nil || !strings.Contains(string(out), "no log at") {
		t.Fatalf("no remote configured: %v %s", err, out)
	}
}
