package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// webserver.workers > 1 runs that many webserver processes behind one
// listening socket, as the reference runs gunicorn workers. One Go process
// already uses every core, so the point is not throughput but isolation:
// a worker that panics, leaks or is OOM-killed takes only its own
// requests with it, and is replaced while the others keep serving. The
// parent only holds the socket (bound itself or passed by systemd) and
// supervises; the kernel hands each connection to one of the workers
// blocked in accept, so no proxy hop is added.

// Environment of a worker process: its number, and the descriptor of the
// inherited listening socket.
const (
	webWorkerEnv   = "AIRD_WEBSERVER_WORKER"
	webListenFDEnv = "AIRD_WEBSERVER_LISTEN_FD"
)

// webWorkerStopGrace is how long a worker gets after SIGTERM: the 10 s it
// gives in-flight requests, and some to spare.
const webWorkerStopGrace = 15 * time.Second

// isWebWorker reports whether this process is one of a supervisor's
// workers.
func isWebWorker() bool { return os.Getenv(webWorkerEnv) != "" }

// superviseWebWorkers binds the socket, starts webserver.workers copies
// of this command serving it, and replaces any that exits until ctx ends;
// then it stops them all.
func (a *App) superviseWebWorkers(ctx context.Context) error {
	stopMetrics, err := a.startMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	sock, addr, err := listenSocketFile(a.Config.Webserver.Port)
	if err != nil {
		return err
	}
	defer sock.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("webserver workers: find the aird binary to start: %w", err)
	}
	var env []string
	if a.Config.Webserver.SecretKey == "" {
		// The workers must share one key, or a session would only work on
		// the worker that signed it in.
		a.Log.Warn("webserver.secret_key is not set: the workers share a key generated now, so sessions will not survive " +
			"a restart of the webserver; set it (AIRD_WEBSERVER_SECRET_KEY) to a long random string")
		env = append(env, "AIRD_WEBSERVER_SECRET_KEY="+rand.Text())
	}
	n := a.Config.Webserver.Workers
	a.Log.Info("webserver listening", "addr", addr, "workers", n)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() { a.keepWebWorker(ctx, i, exe, sock, env) })
	}
	wg.Wait()
	a.Log.Info("webserver workers stopped")
	return nil
}

// listenSocketFile binds the port (or takes systemd's socket) and returns
// a descriptor of it for the workers; the parent never accepts on it.
func listenSocketFile(port int) (*os.File, string, error) {
	ln, err := listen(port)
	if err != nil {
		return nil, "", err
	}
	defer ln.Close() // the file is a duplicate: the socket stays open
	fl, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, "", fmt.Errorf("webserver workers: cannot share a %T listener; set webserver.workers = 1", ln)
	}
	f, err := fl.File()
	if err != nil {
		return nil, "", fmt.Errorf("webserver workers: share the listening socket: %w", err)
	}
	return f, ln.Addr().String(), nil
}

// keepWebWorker runs worker n until ctx ends, starting it again whenever
// it exits. A worker that keeps dying soon after start is restarted with
// a growing delay, so a broken setup does not spin.
func (a *App) keepWebWorker(ctx context.Context, n int, exe string, sock *os.File, env []string) {
	delay := time.Duration(0)
	for {
		started := time.Now()
		err := a.runWebWorker(ctx, n, exe, sock, env)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			delay = 0
		} else {
			delay = min(max(2*delay, 500*time.Millisecond), 30*time.Second)
		}
		a.Log.Error("webserver worker exited; starting another", "worker", n, "err", err, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runWebWorker runs one worker process to its end: its exit, or SIGTERM
// when ctx ends (SIGKILL after webWorkerStopGrace).
func (a *App) runWebWorker(ctx context.Context, n int, exe string, sock *os.File, env []string) error {
	cmd := exec.CommandContext(ctx, exe, os.Args[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = webWorkerStopGrace
	// ExtraFiles[0] is descriptor 3 in the child.
	cmd.ExtraFiles = []*os.File{sock}
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, webWorkerEnv+"="+strconv.Itoa(n), webListenFDEnv+"=3")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = webWorkerProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start webserver worker %d: %w", n, err)
	}
	a.Log.Info("webserver worker started", "worker", n, "pid", cmd.Process.Pid)
	err := cmd.Wait()
	if ctx.Err() != nil {
		if err != nil && !errors.Is(err, context.Canceled) {
			a.Log.Warn("webserver worker stopped uncleanly", "worker", n, "pid", cmd.Process.Pid, "err", err)
		}
		return nil
	}
	if err == nil {
		err = errors.New("exited with status 0")
	}
	return fmt.Errorf("webserver worker %d (pid %d): %w", n, cmd.Process.Pid, err)
}

// inheritedListener is the socket a supervisor passed to this worker.
func inheritedListener() (net.Listener, bool, error) {
	raw := os.Getenv(webListenFDEnv)
	if raw == "" {
		return nil, false, nil
	}
	os.Unsetenv(webListenFDEnv) // for this process only
	fd, err := strconv.Atoi(raw)
	if err != nil || fd < 3 {
		return nil, true, fmt.Errorf("webserver worker: %s=%q: want a descriptor number of 3 or more", webListenFDEnv, raw)
	}
	f := os.NewFile(uintptr(fd), "aird-webserver-socket")
	defer f.Close() // FileListener holds its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, true, fmt.Errorf("webserver worker: socket from the supervisor: %w", err)
	}
	return ln, true, nil
}
