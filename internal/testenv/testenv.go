// Package testenv starts real servers (PostgreSQL, Redis, OpenSSH sshd) from
// local binaries for integration tests. Each server listens on a free
// loopback port, keeps its state in a private temporary directory and is
// stopped when the test that started it finishes.
//
// A missing binary skips the test (run `make deps`), except when the CI
// environment variable is set: CI installs the binaries, so a missing one
// there is a real failure and fails the test instead of hiding it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout   = 30 * time.Second // overall budget for a server to come up
	stopTimeout    = 30 * time.Second // grace period before SIGKILL on stop
	checkTimeout   = 2 * time.Second  // budget for a single readiness probe
	portAttempts   = 3                // launches tried when a port is stolen
	firstPollDelay = 10 * time.Millisecond
	maxPollDelay   = 250 * time.Millisecond
)

// errAddrInUse marks a start failure caused by a port that was taken between
// freePort and the server binding it; such failures are retried.
var errAddrInUse = errors.New("address already in use")

// missingBinary skips the test, or fails it under CI where `make deps` is
// expected to have installed everything.
func missingBinary(t testing.TB, what string) {
	t.Helper()
	msg := fmt.Sprintf("testenv: %s not found; run `make deps`", what)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so a missing binary is an error)")
	}
	t.Skip(msg)
}

// lookPath returns the absolute path of the first candidate that is an
// executable, trying PATH for bare names.
func lookPath(candidates ...string) (string, bool) {
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, true
		}
	}
	return "", false
}

// freePort asks the kernel for an unused loopback port. The port is released
// before returning, so another process may grab it: callers retry on
// errAddrInUse (see startOnFreePort).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startOnFreePort calls launch with a fresh port until it succeeds, fails for
// a reason other than a port clash, or runs out of attempts.
func startOnFreePort(launch func(port int) error) (int, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		err = launch(port)
		if err == nil || attempt >= portAttempts || !errors.Is(err, errAddrInUse) {
			return port, err
		}
	}
}

// process is a server child process whose stdout and stderr go to a log file.
type process struct {
	name     string
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process has been reaped
	waitErr  error         // valid after done is closed
	logPath  string
	logStart int64 // log size before this run, to report only its output
}

// procOptions configures startProcess.
type procOptions struct {
	logPath string
	dir     string              // working directory; must be accessible to cred
	cred    *syscall.Credential // run as another user (we run as root)
}

// startProcess starts a binary with its output appended to opts.logPath.
func startProcess(opts procOptions, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(opts.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logFile.Close() // the child holds its own copy of the descriptor
	info, err := logFile.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = opts.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig reaps the server if the test binary dies without running
	// its cleanups (panic, timeout), so no stray servers pile up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: opts.cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{name: bin, cmd: cmd, done: make(chan struct{}), logPath: opts.logPath, logStart: info.Size()}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has terminated.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits for the process to exit, escalating to SIGKILL
// after stopTimeout so a wedged server cannot hang the test run.
func (p *process) stop(sig os.Signal) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not exit within %s after %v; killed", p.name, stopTimeout, sig)
}

// output returns what the process wrote to its log during this run.
func (p *process) output() string {
	out := readFile(p.logPath)
	if int64(len(out)) >= p.logStart {
		out = out[p.logStart:]
	}
	return out
}

// readFile returns a log file's contents, or why it cannot be read.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(b)
}

// abort kills a process that failed to become ready and returns cause with
// the server log attached, marked with errAddrInUse when the port was taken.
func (p *process) abort(cause error) error {
	_ = p.cmd.Process.Kill()
	<-p.done
	out := p.output()
	err := fmt.Errorf("%w\n--- %s log ---\n%s", cause, p.name, out)
	if strings.Contains(strings.ToLower(out), "address already in use") {
		return fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return err
}

// permanentError tells waitReady to stop polling: retrying cannot help.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// waitReady polls check with a growing delay until it succeeds, returns a
// permanentError, the process exits, or readyTimeout passes. Watching the
// process means a server that dies at startup is reported at once.
func waitReady(p *process, check func(context.Context) error) error {
	deadline := time.Now().Add(readyTimeout)
	delay := firstPollDelay
	for {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		err := check(ctx)
		cancel()
		var perm permanentError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &perm):
			return perm.err
		case p.exited():
			return fmt.Errorf("%s exited before becoming ready (%v); last probe error: %w", p.name, p.waitErr, err)
		case time.Now().After(deadline):
			return fmt.Errorf("%s not ready after %s: %w", p.name, readyTimeout, err)
		}
		select {
		case <-p.done: // report the exit on the next iteration
		case <-time.After(delay):
		}
		delay = min(2*delay, maxPollDelay)
	}
}

// privateTempDir creates a directory under os.TempDir() rather than via
// t.TempDir: t.TempDir's parents are 0700, so a server running as another
// user could not reach it, and its long path can overflow the 107-byte limit
// on unix socket paths. The directory is removed in Cleanup.
func privateTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("testenv: create temp dir: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testenv: remove %s: %v", dir, err)
		}
	})
	return dir
}

// randomHex returns 2n random lowercase hex digits, for passwords and
// names that must not collide across parallel tests and test binaries.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// credentialFor converts a user account into the credential for
// SysProcAttr, dropping supplementary groups.
func credentialFor(u *user.User) (*syscall.Credential, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid of %s: %w", u.Username, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
