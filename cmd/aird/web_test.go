package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var listenAddr = regexp.MustCompile(`msg="webserver listening" addr=\S*:(\d+)`)

// serveLogged starts an aird role whose webserver picks a free port, and
// returns its base URL once it is listening.
func (h *home) serveLogged(args ...string) (string, func() error) {
	h.t.Helper()
	c := h.cmd(append(args, "--port", "0")...)
	logPath := filepath.Join(h.dir, args[0]+".log")
	logf, err := os.Create(logPath)
	must(h.t, err)
	c.Stdout, c.Stderr = logf, logf
	must(h.t, c.Start())
	h.t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
		logf.Close()
	})
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for port == "" {
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			h.t.Fatalf("%s never listened; log:\n%s", args[0], out)
		}
		out, _ := os.ReadFile(logPath)
		if m := listenAddr.FindSubmatch(out); m != nil {
			port = string(m[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop := func() error {
		must(h.t, c.Process.Signal(syscall.SIGTERM))
		return c.Wait()
	}
	return "http://127.0.0.1:" + port, stop
}

func get(t *testing.T, url, user, password string) (int, string) {
	t.Helper()
	r, err := http.NewRequest("GET", url, nil)
	must(t, err)
	if user != "" {
		r.SetBasicAuth(user, password)
	}
	// A timeout: a passed socket queues connections even if aird never
	// accepts them.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(b)
}

var generatedPassword = regexp.MustCompile(`generated password \(shown only now\): (\S+)`)

// TestUsersCreateAndWebserver: `aird users create` prints a generated
// password once; `aird webserver` serves /health without auth and the API
// only with that user; SIGTERM stops it cleanly.
func TestUsersCreateAndWebserver(t *testing.T) {
	h := newHome(t, "1s")
	out := h.run("users", "create", "--username", "ops", "--role", "admin", "--email", "ops@example.com", "--firstname", "O", "--lastname", "Ps")
	m := generatedPassword.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "role Admin") {
		t.Fatalf("users create output %q", out)
	}
	if c := h.cmd("users", "create", "--username", "ops", "--role", "Viewer", "--email", "x@example.com", "--password", "long-enough"); c.Run() == nil {
		t.Fatal("a duplicate user was created")
	}
	h.run("users", "create", "--username", "view", "--role", "Viewer", "--email", "v@example.com", "--password", "viewer-pass")

	base, stop := h.serveLogged("webserver")
	code, body := get(t, base+"/health", "", "")
	var health map[string]map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &health) != nil || health["metadatabase"]["status"] != "healthy" {
		t.Fatalf("/health: %d %s", code, body)
	}
	if code, _ := get(t, base+"/api/v1/dags", "", ""); code != 401 {
		t.Fatalf("API without auth: %d", code)
	}
	if code, body := get(t, base+"/api/v1/dags/long/tasks", "view", "viewer-pass"); code != 200 || !strings.Contains(body, `"task_id":"after"`) {
		t.Fatalf("tasks as viewer: %d %s", code, body)
	}
	if code, _ := get(t, base+"/api/v1/users", "view", "viewer-pass"); code != 403 {
		t.Fatalf("users as viewer: %d", code)
	}
	if code, _ := get(t, base+"/api/v1/users", "ops", m[1]); code != 200 {
		t.Fatalf("users as admin: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("webserver did not exit cleanly on SIGTERM: %v", err)
	}
}

// TestStandaloneServesWebWithHealthyScheduler: standalone runs the
// webserver beside its scheduler, whose heartbeat /health reports.
func TestStandaloneServesWebWithHealthyScheduler(t *testing.T) {
	h := newHome(t, "1s")
	base, stop := h.serveLogged("standalone")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, base+"/health", "", "")
		if strings.Contains(body, `"scheduler":{"status":"healthy"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduler never healthy: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("standalone did not exit cleanly: %v", err)
	}
}

// TestWebserverSocketActivation: under systemd the port is bound by the
// socket unit and handed over as fd 3 (LISTEN_FDS); aird serves on it
// rather than binding webserver.port.
func TestWebserverSocketActivation(t *testing.T) {
	h := newHome(t, "1s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	must(t, err)
	defer f.Close()
	// sh's $$ is the PID aird keeps after exec, as systemd sets LISTEN_PID.
	c := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=http exec "$0" webserver --port 1`, airdBin)
	c.Env = append(os.Environ(), "AIRD_HOME="+h.dir, "AIRD_DAGS_FOLDER=")
	c.ExtraFiles = []*os.File{f}
	logPath := filepath.Join(h.dir, "webserver.log")
	logf, err := os.Create(logPath)
	must(t, err)
	defer logf.Close()
	c.Stdout, c.Stderr = logf, logf
	must(t, c.Start())
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	url := "http://" + ln.Addr().String() + "/health"
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, url, "", "")
		if code == 200 && strings.Contains(body, `"metadatabase":{"status":"healthy"}`) {
			break
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			t.Fatalf("no answer on the passed socket: %d %s; log:\n%s", code, body, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	must(t, c.Process.Signal(syscall.SIGTERM))
	if err := c.Wait(); err != nil {
		t.Fatalf("webserver exit: %v", err)
	}
}
