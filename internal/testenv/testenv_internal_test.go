package testenv

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startShell(t *testing.T, script string) *process {
	t.Helper()
	p, err := startProcess(procOptions{logPath: filepath.Join(t.TempDir(), "log")}, "/bin/sh", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.stop(syscall.SIGKILL) })
	return p
}

func TestWaitReadyReportsEarlyExit(t *testing.T) {
	p := startShell(t, "echo boom; exit 3")
	start := time.Now()
	err := waitReady(p, func(context.Context) error { return errors.New("not ready") })
	if err == nil || !strings.Contains(err.Error(), "exited before becoming ready") {
		t.Fatalf("err = %v, want early-exit error", err)
	}
	if elapsed := time.Since(start); elapsed > readyTimeout/2 {
		t.Fatalf("early exit reported after %s", elapsed)
	}
	if err := p.abort(err); !strings.Contains(err.Error(), "boom") || errors.Is(err, errAddrInUse) {
		t.Fatalf("abort = %v, want log attached and no errAddrInUse", err)
	}
}

func TestWaitReadyPollsUntilReady(t *testing.T) {
	p := startShell(t, "exec sleep 60")
	calls := 0
	err := waitReady(p, func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err = %v after %d probes, want success after 3", err, calls)
	}
}

func TestWaitReadyStopsOnPermanentError(t *testing.T) {
	p := startShell(t, "exec sleep 60")
	want := errors.New("auth failed")
	if err := waitReady(p, func(context.Context) error { return permanentError{want} }); !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestAbortDetectsAddressInUse(t *testing.T) {
	p := startShell(t, "echo 'bind: Address already in use' >&2; exit 1")
	<-p.done
	if err := p.abort(errors.New("failed")); !errors.Is(err, errAddrInUse) {
		t.Fatalf("abort = %v, want errAddrInUse", err)
	}
}

func TestStartOnFreePortRetriesPortClashes(t *testing.T) {
	var ports []int
	_, err := startOnFreePort(func(port int) error {
		ports = append(ports, port)
		if len(ports) < portAttempts {
			return errAddrInUse
		}
		return nil
	})
	if err != nil || len(ports) != portAttempts {
		t.Fatalf("err = %v after %d launches, want success on attempt %d", err, len(ports), portAttempts)
	}

	other := errors.New("bad config")
	calls := 0
	if _, err := startOnFreePort(func(int) error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("err = %v after %d launches, want %v after 1", err, calls, other)
	}
}

// An sshd that is up but rejects the login must be reported at once, not
// retried until the deadline.
func TestSSHProbeAuthFailureIsPermanent(t *testing.T) {
	t.Parallel()
	sd := SSHD(t)
	wrong, err := writeKey(filepath.Join(t.TempDir(), "wrong_key"))
	if err != nil {
		t.Fatal(err)
	}
	bad := *sd
	bad.ClientSigner = wrong
	var perm permanentError
	if err := bad.probe(t.Context()); !errors.As(err, &perm) {
		t.Fatalf("probe with unknown key = %v, want permanentError", err)
	}
}
