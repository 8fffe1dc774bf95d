package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// TestWebserverShowsRunningLogFromWorker: the webserver has neither the
// running try's log (another host's folder) nor a shipped copy, so the API
// reads it from the worker log server of the worker that runs it, live,
// authenticated with the shared secret key.
func TestWebserverShowsRunningLogFromWorker(t *testing.T) {
	port := freeTCPPort(t)
	shared := `
webserver { secret_key = "worker-log-test-secret" }
logging { worker_log_server_port = ` + strconv.Itoa(port) + ` }
`
	c := newCluster(t, haSettings+`worker { concurrency = 2 }
`)
	mark := filepath.Join(c.dir, "started")
	release := filepath.Join(c.dir, "release")
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, release))
	c.scheduler()
	w := c.worker(shared)
	out, err := c.command(c.newHome("users", ""), "users", "create", "--username", "ops", "--role", "admin",
		"--email", "ops@example.com", "--firstname", "O", "--lastname", "Ps", "--password", "ops-password").CombinedOutput()
	if err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	web := c.start("webserver", "webserver listening", shared, "--port", "0")
	m := listenAddr.FindStringSubmatch(web.logText())
	if m == nil {
		t.Fatalf("no listening address in\n%s", web.logText())
	}
	runID := c.trigger("long")
	c.waitFor("the try to start", func() bool { return exists(mark) })

	url := "http://127.0.0.1:" + m[1] + "/api/v1/dags/long/dagRuns/" + runID + "/taskInstances/work/logs/1?full_content=true"
	code, body := get(t, url, "ops", "ops-password")
	if code != 200 || !strings.Contains(body, "try 1 of 1 on") || strings.Contains(body, "task ended") {
		t.Fatalf("running try's log through the webserver: %d %s\nworker:\n%s", code, body, w.logText())
	}
	check(t, os.WriteFile(release, nil, 0o644))
	c.waitRunSuccess("long", runID)
	code, body = get(t, url, "ops", "ops-password")
	if code != 200 || !strings.Contains(body, "released") || !strings.Contains(body, "task ended") {
		t.Fatalf("finished try's log through the webserver: %d %s", code, body)
	}
	if code, body := get(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/log/long/work/x/1.log", "", ""); code != 403 {
		t.Fatalf("worker log server without a token: %d %s", code, body)
	}
}

// freeTCPPort is a port nothing listens on right now.
func freeTCPPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestWorkerLogServerServesThroughDrain: after SIGTERM the worker log
// server keeps serving the log of the task still running in the shutdown
// grace, and closes once the pool has drained and the worker exits.
func TestWorkerLogServerServesThroughDrain(t *testing.T) {
	port := freeTCPPort(t)
	const secret = "worker-log-drain-secret"
	c := newCluster(t, fastSettings+`worker {
  concurrency    = 1
  kill_grace     = "200ms"
  shutdown_grace = "60s"
}
`)
	mark, release := filepath.Join(c.dir, "started"), filepath.Join(c.dir, "release")
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, release))
	c.scheduler()
	w := c.worker(`
webserver { secret_key = "` + secret + `" }
logging { worker_log_server_port = ` + strconv.Itoa(port) + ` }
`)
	runID := c.trigger("long")
	c.waitFor("the task to start", func() bool { return exists(mark) })
	run, err := c.store().GetDagRun(context.Background(), "long", runID)
	check(t, err)
	rel := logs.RelPath(store.TIKey{DagID: "long", RunID: runID, TaskID: "work"}, run.LogicalDate, 1)
	read := workerLogReader(secret, port, rel)

	check(t, w.cmd.Process.Signal(syscall.SIGTERM))
	c.waitFor("the worker to start draining", func() bool { return strings.Contains(w.logText(), "aird worker draining") })
	draining := time.Now()
	c.waitFor("a heartbeat during the drain", func() bool {
		jobs, err := c.store().ListJobs(context.Background(), "worker")
		check(t, err)
		return len(jobs) > 0 && jobs[0].PID == w.pid() && jobs[0].LatestHeartbeat.After(draining)
	})
	body, err := read()
	if err != nil || !strings.Contains(body, "try 1 of") || strings.Contains(body, "task ended") {
		t.Fatalf("running task's log during the drain: %v %q\nworker:\n%s", err, body, w.logText())
	}
	if w.exited() {
		t.Fatalf("worker exited before its task finished: %v\n%s", w.err, w.logText())
	}
	check(t, os.WriteFile(release, nil, 0o644))
	if err := c.wait(w); err != nil {
		t.Fatalf("worker exit after the drain: %v\n%s", err, w.logText())
	}
	if ti := c.ti("long", runID, "work"); ti.State != store.TISuccess || ti.PID != w.pid() {
		t.Fatalf("work: %s on pid %d; want success on the draining worker %d", ti.State, ti.PID, w.pid())
	}
	if body, err := read(); err == nil {
		t.Fatalf("worker log server still answers after the drain: %q", body)
	}
}

// workerLogReader reads rel from the worker log server on this host, as
// the webserver does: with a token signed by the shared secret.
func workerLogReader(secret string, port int, rel string) func() (string, error) {
	wl := &logs.WorkerLogs{
		Client: &http.Client{Timeout: 10 * time.Second},
		Secret: []byte(secret),
		Port:   port,
		Host:   func(context.Context, string) (string, error) { return "127.0.0.1", nil },
	}
	return func() (string, error) {
		rc, err := wl.Open(context.Background(), rel)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
}
