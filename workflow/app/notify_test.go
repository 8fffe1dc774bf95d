package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/notify"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// received is one request that reached the test receiver.
type received struct {
	path    string
	payload notify.WebhookPayload
	text    string // slack
	header  http.Header
}

// receiver answers 500 to the first request of each path listed in
// failFirst, then 200, and records every request it accepted.
type receiver struct {
	mu        sync.Mutex
	failFirst map[string]bool
	got       []received
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failFirst[req.URL.Path] {
		r.failFirst[req.URL.Path] = false
		http.Error(w, "not ready yet", http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(req.Body)
	rec := received{path: req.URL.Path, header: req.Header.Clone()}
	var slack struct{ Text string }
	if strings.HasPrefix(req.URL.Path, "/slack") {
		_ = json.Unmarshal(body, &slack)
		rec.text = slack.Text
	} else if err := json.Unmarshal(body, &rec.payload); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, rec)
}

func (r *receiver) byPath() map[string][]received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]received{}
	for _, g := range r.got {
		out[g.path] = append(out[g.path], g)
	}
	return out
}

// TestNotificationsEndToEnd runs aird standalone on SQLite: a task that
// fails twice sends on_retry then on_failure (task and run level), a
// succeeding DAG sends on_success through a receiver that first answers
// 500, a task past its sla sends sla_miss once, and the task states are
// what the commands decided.
func TestNotificationsEndToEnd(t *testing.T) {
	recv := &receiver{failFirst: map[string]bool{"/run-ok": true}}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	home := t.TempDir()
	dags := filepath.Join(home, "dags")
	mustWrite(t, filepath.Join(dags, "notify.hcl"), `
dag "flaky" {
  on_retry {
    webhook { url = "`+srv.URL+`/retry" }
  }
  on_failure {
    webhook { url = "`+srv.URL+`/run-failed" }
  }
  task "boom" {
    command     = "echo failing; exit 3"
    retries     = 1
    retry_delay = "0s"
    on_failure {
      webhook {
        url     = "`+srv.URL+`/task-failed"
        headers = { "X-Run" = run.id }
      }
    }
  }
}

dag "late" {
  task "slow" {
    command = "sleep 0.2"
    sla     = "1ms"
    sla_miss {
      webhook { url = "`+srv.URL+`/sla" }
    }
  }
}

dag "fine" {
  params = { owner = "data-team" }
  on_success {
    webhook { url = "`+srv.URL+`/run-ok" }
    slack {
      webhook_url = "`+srv.URL+`/slack"
      text        = "${run.dag_id} succeeded for ${params.owner}: ${ti.log_url}"
    }
  }
  task "a" {
    command = "echo ok"
    on_success {
      webhook { url = "`+srv.URL+`/task-ok" }
    }
  }
}`)
	mustWrite(t, filepath.Join(home, "aird.hcl"), `
core {
  dags_folder                 = "`+dags+`"
  dags_are_paused_at_creation = false
}
database { url = "sqlite://`+filepath.Join(home, "aird.db")+`" }
scheduler {
  poll_interval      = "100ms"
  sla_check_interval = "50ms"
}
webserver {
  port     = 0
  base_url = "http://aird.test"
}
logging { base_log_folder = "`+filepath.Join(home, "logs")+`" }
`)
	t.Setenv("AIRD_HOME", home)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() }) // after standalone stopped: cleanups run last first
	if err := a.Store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Standalone(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("standalone: %v", err)
		}
	})

	runs := map[string]string{}
	for _, id := range []string{"flaky", "fine", "late"} {
		d, err := a.DAG(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		run, err := scheduler.Trigger(ctx, a.Store, d, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs[id] = run.RunID
	}
	want := []string{"/retry", "/task-failed", "/run-failed", "/task-ok", "/run-ok", "/slack", "/sla"}
	got := waitFor(t, recv, want)

	flaky, fine := runs["flaky"], runs["fine"]
	retry, taskFailed, runFailed := got["/retry"][0].payload, got["/task-failed"][0], got["/run-failed"][0].payload
	if retry.Event != "on_retry" || retry.TaskID != "boom" || retry.TryNumber != 1 || retry.State != "up_for_retry" || retry.RunID != flaky {
		t.Errorf("on_retry payload %+v", retry)
	}
	if p := taskFailed.payload; p.Event != "on_failure" || p.TaskID != "boom" || p.TryNumber != 2 || p.State != "failed" ||
		p.LogURL != "http://aird.test/dags/flaky/runs/"+flaky+"/tasks/boom?try=2" {
		t.Errorf("task on_failure payload %+v", p)
	}
	if taskFailed.header.Get("X-Run") != flaky {
		t.Errorf("X-Run header = %q, want the rendered run id", taskFailed.header.Get("X-Run"))
	}
	if runFailed.Event != "on_failure" || runFailed.TaskID != "" || runFailed.State != "failed" || strings.Join(runFailed.FailedTasks, ",") != "boom" {
		t.Errorf("run on_failure payload %+v", runFailed)
	}
	if p := got["/task-ok"][0].payload; p.Event != "on_success" || p.TaskID != "a" || p.State != "success" || p.RunID != fine {
		t.Errorf("task on_success payload %+v", p)
	}
	if p := got["/run-ok"][0].payload; p.Event != "on_success" || p.State != "success" || p.LogURL != "http://aird.test/dags/fine/runs/"+fine {
		t.Errorf("run on_success payload %+v", p)
	}
	if text := got["/slack"][0].text; text != "fine succeeded for data-team: http://aird.test/dags/fine/runs/"+fine {
		t.Errorf("slack text %q", text)
	}
	for path, n := range map[string]int{"/retry": 1, "/task-failed": 1, "/run-failed": 1, "/run-ok": 1, "/sla": 1} {
		if len(got[path]) != n {
			t.Errorf("%s received %d times, want %d", path, len(got[path]), n)
		}
	}
	if p := got["/sla"][0].payload; p.Event != "sla_miss" || p.DagID != "late" || p.TaskID != "slow" || p.RunID != runs["late"] || p.SLADeadline == nil {
		t.Errorf("sla_miss payload %+v", p)
	}
	// The receiver's 500 changed nothing about the task or the run.
	ti, err := a.Store.GetTaskInstance(ctx, store.TIKey{DagID: "fine", RunID: fine, TaskID: "a"})
	if err != nil || ti.State != store.TISuccess {
		t.Errorf("fine.a = %s (%v), want success", ti.State, err)
	}
	run, err := a.Store.GetDagRun(ctx, "fine", fine)
	if err != nil || run.State != store.RunSuccess {
		t.Errorf("fine run = %s (%v), want success", run.State, err)
	}
	ti, err = a.Store.GetTaskInstance(ctx, store.TIKey{DagID: "flaky", RunID: flaky, TaskID: "boom"})
	if err != nil || ti.State != store.TIFailed || ti.TryNumber != 2 {
		t.Errorf("flaky.boom = %s try %d (%v), want failed after 2 tries", ti.State, ti.TryNumber, err)
	}
}

// waitFor polls the receiver until every path has been received.
func waitFor(t *testing.T, r *receiver, paths []string) map[string][]received {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := r.byPath()
		missing := []string{}
		for _, p := range paths {
			if len(got[p]) == 0 {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("never received %v; got %v", missing, got)
		}
		time.Sleep(20 * time.Millisecond) // polling the receiver, the observable outcome
	}
}
