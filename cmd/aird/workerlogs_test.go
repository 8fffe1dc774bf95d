package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
