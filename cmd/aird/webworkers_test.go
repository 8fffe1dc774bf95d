package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var workerStarted = regexp.MustCompile(`msg="webserver worker started" worker=(\d+) pid=(\d+)`)

// webWorkers is a running `aird webserver` with workers > 1.
type webWorkers struct {
	t       *testing.T
	logPath string
	base    string
}

func (w *webWorkers) log() string {
	out, _ := os.ReadFile(w.logPath)
	return string(out)
}

// waitWorkers returns the newest pid of each worker number, once each of
// the n workers has one that is not in not.
func (w *webWorkers) waitWorkers(n int, not ...int) map[int]int {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pids := map[int]int{}
		for _, m := range workerStarted.FindAllStringSubmatch(w.log(), -1) {
			num, _ := strconv.Atoi(m[1])
			pid, _ := strconv.Atoi(m[2])
			pids[num] = pid
		}
		ok := len(pids) == n
		for _, pid := range pids {
			ok = ok && !slices.Contains(not, pid)
		}
		if ok {
			return pids
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("want %d workers not in %v, have %v; log:\n%s", n, not, pids, w.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitListening waits for n "webserver listening" lines: the supervisor's
// and one per worker started. A worker is stopped (SIGSTOP) only once all
// are serving, never while it may hold the store's migration lock.
func (w *webWorkers) waitListening(n int) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(w.log(), `msg="webserver listening"`) < n {
		if time.Now().After(deadline) {
			w.t.Fatalf("want %d listening lines; log:\n%s", n, w.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getAs fetches path on a fresh connection (keep-alive would pin the
// request to the worker that served the last one).
func (w *webWorkers) getAs(jar http.CookieJar, path string) int {
	w.t.Helper()
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.base + path)
	if err != nil {
		w.t.Fatalf("GET %s: %v; log:\n%s", path, err, w.log())
	}
	resp.Body.Close()
	return resp.StatusCode
}

// onlyWorker runs fn while every worker but pid is stopped (SIGSTOP), so
// that pid alone accepts connections.
func onlyWorker(t *testing.T, pids map[int]int, pid int, fn func()) {
	t.Helper()
	var stopped []int
	defer func() {
		for _, p := range stopped {
			_ = syscall.Kill(p, syscall.SIGCONT)
		}
	}()
	for _, p := range pids {
		if p != pid {
			must(t, syscall.Kill(p, syscall.SIGSTOP))
			stopped = append(stopped, p)
		}
	}
	// The stop is asynchronous: wait until the kernel reports it.
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range stopped {
		for !isStopped(p) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d never stopped", p)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fn()
}

// isStopped reads the process state from /proc: T is stopped.
func isStopped(pid int) bool {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state …; comm may hold spaces, so cut at the last ')'.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+1:])
	return strings.HasPrefix(strings.TrimSpace(rest), "T")
}

// TestWebserverWorkers: with workers = 3 the supervisor starts three
// processes sharing its socket, each of which serves on its own; a
// session signed in on one is valid on every other (the supervisor shares
// a generated secret key); a killed worker is replaced, and the session
// outlives all the original workers; SIGTERM stops everything cleanly.
func TestWebserverWorkers(t *testing.T) {
	h := newHome(t, "1s")
	h.run("users", "create", "--username", "ops", "--role", "Admin", "--email", "ops@example.com", "--password", "ops-password")
	c := h.cmd("webserver", "--port", "0")
	c.Env = append(c.Env, "AIRD_WEBSERVER_WORKERS=3")
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
	w := &webWorkers{t: t, logPath: logPath}
	deadline := time.Now().Add(30 * time.Second)
	for w.base == "" {
		if m := listenAddr.FindStringSubmatch(w.log()); m != nil {
			w.base = "http://127.0.0.1:" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("never listened; log:\n%s", w.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	pids := w.waitWorkers(3)
	w.waitListening(1 + 3)
	for _, pid := range pids {
		if pid == c.Process.Pid {
			t.Fatal("the supervisor counts itself as a worker")
		}
	}

	jar, err := cookiejar.New(nil)
	must(t, err)
	login(t, w, jar)
	// Each worker alone: it serves /health, and accepts the session.
	for num, pid := range pids {
		onlyWorker(t, pids, pid, func() {
			if code := w.getAs(nil, "/health"); code != 200 {
				t.Fatalf("worker %d alone: /health %d", num, code)
			}
			if code := w.getAs(jar, "/api/v1/users"); code != 200 {
				t.Fatalf("worker %d alone: the session got %d", num, code)
			}
		})
	}

	// Kill every original worker; each is replaced and the session holds.
	var old []int
	for _, pid := range pids {
		old = append(old, pid)
	}
	for _, pid := range old {
		must(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	fresh := w.waitWorkers(3, old...)
	w.waitListening(1 + 3 + 3)
	if !strings.Contains(w.log(), `msg="webserver worker exited; starting another"`) {
		t.Fatalf("no restart logged:\n%s", w.log())
	}
	for num, pid := range fresh {
		onlyWorker(t, fresh, pid, func() {
			if code := w.getAs(jar, "/api/v1/users"); code != 200 {
				t.Fatalf("replacement worker %d: the session got %d", num, code)
			}
		})
	}

	must(t, c.Process.Signal(syscall.SIGTERM))
	if err := c.Wait(); err != nil {
		t.Fatalf("supervisor exit: %v; log:\n%s", err, w.log())
	}
	for _, pid := range fresh {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("worker pid %d still running after the supervisor stopped", pid)
		}
	}
}

// login signs in through the login form.
func login(t *testing.T, w *webWorkers, jar http.CookieJar) {
	t.Helper()
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.base + "/login")
	must(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, err)
	body := string(raw)
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in the login page: %s", body)
	}
	resp, err = c.PostForm(w.base+"/login", url.Values{"csrf_token": {m[1]}, "username": {"ops"}, "password": {"ops-password"}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
}

// TestWebserverWorkersOnSystemdSocket: under socket activation the
// supervisor hands systemd's socket (fd 3) to its workers, which serve on
// it; it binds no port of its own.
func TestWebserverWorkersOnSystemdSocket(t *testing.T) {
	h := newHome(t, "1s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	must(t, err)
	defer f.Close()
	// sh's $$ is the PID aird keeps after exec, as systemd sets LISTEN_PID.
	c := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=http exec "$0" webserver --port 1`, airdBin)
	c.Env = append(os.Environ(), "AIRD_HOME="+h.dir, "AIRD_DAGS_FOLDER=", "AIRD_WEBSERVER_WORKERS=2")
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
	w := &webWorkers{t: t, logPath: logPath, base: "http://" + ln.Addr().String()}
	w.waitWorkers(2)
	w.waitListening(1 + 2)
	if !strings.Contains(w.log(), `msg="webserver listening" addr=`+ln.Addr().String()+" workers=2") {
		t.Fatalf("the supervisor did not take the passed socket; log:\n%s", w.log())
	}
	if code := w.getAs(nil, "/health"); code != 200 {
		t.Fatalf("/health on the passed socket: %d", code)
	}
	must(t, c.Process.Signal(syscall.SIGTERM))
	if err := c.Wait(); err != nil {
		t.Fatalf("supervisor exit: %v; log:\n%s", err, w.log())
	}
}
