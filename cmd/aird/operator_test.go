package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTasksTestRunsOperators checks that `aird tasks test` runs an
// operator task through its connection (from AIRD_CONN_<ID>), prints its
// output, and exits non-zero when the operator fails or a rescheduling
// sensor is not satisfied yet.
func TestTasksTestRunsOperators(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"ok": true, "day": "` + r.URL.Query().Get("day") + `"}`))
	}))
	t.Cleanup(api.Close)
	h := newHome(t, "1s")
	must(t, os.WriteFile(filepath.Join(h.dir, "dags", "ops.hcl"), []byte(`
dag "ops" {
  task "status" {
    http {
      conn_id        = "api"
      url            = "/status?day=${run.ds}"
      check_jsonpath = "$.ok"
    }
  }
  task "missing" {
    http {
      conn_id = "api"
      url     = "/missing"
    }
  }
  task "remote" {
    ssh {
      conn_id = "nope"
      command = "true"
    }
  }
  task "wait" {
    wait_for {
      file { path = "`+filepath.Join(h.dir, "never")+`" }
      mode = "reschedule"
    }
  }
}
`), 0o644))
	test := func(task string) (string, error) {
		c := h.cmd("tasks", "test", "ops", task, "2024-01-02")
		c.Env = append(c.Env, "AIRD_CONN_API="+api.URL)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := test("status")
	if err != nil || !strings.Contains(out, `aird: output: {"ok": true, "day": "2024-01-02"}`) {
		t.Errorf("status: %v\n%s", err, out)
	}
	if out, err := test("missing"); err == nil || !strings.Contains(out, "http status 404, expected 2xx") {
		t.Errorf("missing: %v\n%s", err, out)
	}
	if out, err := test("wait"); err == nil || !strings.Contains(out, "sensor condition not met; it would poke again") {
		t.Errorf("wait: %v\n%s", err, out)
	}
	if out, err := test("remote"); err == nil || !strings.Contains(out, `aird: connection "nope"`) {
		t.Errorf("remote: %v\n%s", err, out)
	}

	// dags list names each undefined connection at its block.
	list := h.cmd("dags", "list")
	list.Env = append(list.Env, "AIRD_CONN_API="+api.URL)
	listed, err := list.CombinedOutput()
	if err != nil || !strings.Contains(string(listed), "1 task(s) use a connection that is not defined") ||
		!strings.Contains(string(listed), `ops.hcl line 17`) || !strings.Contains(string(listed), `conn_id "nope"`) {
		t.Errorf("dags list: %v\n%s", err, listed)
	}
}
