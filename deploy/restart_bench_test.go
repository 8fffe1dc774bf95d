package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWebserverRestart counts the requests that fail while the real
// aird webserver restarts, as during a deploy, in the two ways it can own
// its port:
//
//   - socket-activated: as with aird-webserver.socket, the listening socket
//     belongs to a parent that outlives the service (systemd, here this
//     benchmark standing in for it) and is passed as fd 3 with LISTEN_FDS
//     and LISTEN_PID exactly as systemd does. Connections arriving between
//     the old process closing its copy and the new one accepting wait in
//     the kernel's backlog. Goal: 0 failed requests.
//   - self-bound (the baseline): the service binds the port itself, so a
//     restart refuses connections until the new process listens.
//
// systemd-socket-activate cannot stand in for the parent: it execs the
// service, so the socket dies with each process.
//
// A client sends GET /health back to back on fresh connections (as a load
// balancer's health checks and new users arrive) from before the restart
// until the new process has answered.
func BenchmarkWebserverRestart(b *testing.B) {
	aird := buildAird(b)
	home := b.TempDir()
	if err := os.Mkdir(filepath.Join(home, "dags"), 0o755); err != nil {
		b.Fatal(err)
	}
	migrate := exec.Command(aird, "db", "migrate")
	migrate.Env = append(os.Environ(), "AIRD_HOME="+home)
	if out, err := migrate.CombinedOutput(); err != nil {
		b.Fatalf("aird db migrate: %v\n%s", err, out)
	}
	activated := newWebserver(b, aird, home, true)
	selfBound := newWebserver(b, aird, home, false)
	var failedA, sentA, failedS, sentS int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, s := activated.restartUnderLoad(b)
		failedA, sentA = failedA+f, sentA+s
		f, s = selfBound.restartUnderLoad(b)
		failedS, sentS = failedS+f, sentS+s
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(failedA)/n, "failed-socket-activated/restart")
	b.ReportMetric(float64(sentA)/n, "requests-socket-activated/restart")
	b.ReportMetric(float64(failedS)/n, "failed-self-bound/restart")
	b.ReportMetric(float64(sentS)/n, "requests-self-bound/restart")
}

// webserver runs aird webserver and restarts it like systemctl restart:
// SIGTERM, wait for the exit, start again.
type webserver struct {
	aird, home string
	port       int
	socket     *os.File // the held listening socket; nil when self-bound
	cmd        *exec.Cmd
}

func newWebserver(b *testing.B, aird, home string, activated bool) *webserver {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	w := &webserver{aird: aird, home: home, port: ln.Addr().(*net.TCPAddr).Port}
	if activated {
		if w.socket, err = ln.(*net.TCPListener).File(); err != nil {
			b.Fatal(err)
		}
	}
	if err := ln.Close(); err != nil { // the dup in w.socket keeps listening
		b.Fatal(err)
	}
	w.start(b)
	b.Cleanup(func() { w.stop(b) })
	return w
}

func (w *webserver) start(b *testing.B) {
	b.Helper()
	// LISTEN_PID must name the service process itself: sh sets it to its
	// own pid, which exec keeps.
	w.cmd = exec.Command("sh", "-c", `exec "$0" webserver --port "$1"`, w.aird, strconv.Itoa(w.port))
	if w.socket != nil {
		w.cmd = exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=http exec "$0" webserver`, w.aird)
		w.cmd.ExtraFiles = []*os.File{w.socket} // fd 3
	}
	w.cmd.Env = append(os.Environ(), "AIRD_HOME="+w.home)
	if err := w.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w.waitServing(b)
}

func (w *webserver) stop(b *testing.B) {
	b.Helper()
	if w.cmd == nil {
		return
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if err := w.cmd.Wait(); err != nil {
		b.Fatalf("aird webserver did not stop cleanly: %v", err)
	}
	w.cmd = nil
}

func (w *webserver) get(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(w.port)+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s", resp.Status)
	}
	return nil
}

func newClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// waitServing polls until the webserver answers (startup only: the
// restart itself is measured by the client loop).
func (w *webserver) waitServing(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := newClient()
	for {
		err := w.get(ctx, client)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			b.Fatalf("aird webserver did not come up: %v", err)
		}
	}
}

// restartUnderLoad restarts the webserver while a client keeps sending
// requests, and returns how many failed and how many were sent.
func (w *webserver) restartUnderLoad(b *testing.B) (failed, sent int64) {
	b.Helper()
	var nFailed, nSent atomic.Int64
	var restarted atomic.Bool
	served := make(chan struct{}) // closed when the new process answered
	var once sync.Once
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := newClient()
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := w.get(context.Background(), client)
			nSent.Add(1)
			if err != nil {
				nFailed.Add(1)
				continue
			}
			if restarted.Load() {
				once.Do(func() { close(served) })
			}
		}
	}()
	w.stop(b)
	w.start(b)
	restarted.Store(true)
	// The client must itself have been served by the new process.
	select {
	case <-served:
	case <-time.After(time.Minute):
		b.Error("the client was not served by the restarted webserver within a minute")
	}
	close(stop)
	<-done
	return nFailed.Load(), nSent.Load()
}

// buildAird builds cmd/aird for this machine.
func buildAird(b *testing.B) string {
	b.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("the go command is needed to build aird: %v", err)
	}
	out := filepath.Join(b.TempDir(), "aird")
	cmd := exec.Command(goBin, "build", "-o", out, "../cmd/aird")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/aird: %v\n%s", err, msg)
	}
	return out
}
