// Package worker runs task instances: it claims a queued try, renders the
// task's command, runs it in its own process group under time limits and
// records the outcome. The local executor and `aird worker` share it.
package worker

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Spec is one process to run.
type Spec struct {
	Command string
	Env     []string // full environment
	Dir     string
	// Timeout is the execution_timeout; zero means none.
	Timeout time.Duration
	// KillGrace is how long SIGTERM has before SIGKILL.
	KillGrace time.Duration
	// Stdout, when set, receives stdout instead of Exec's out (which
	// still gets stderr), so the runner can also read the last line.
	Stdout io.Writer
}

// Outcome says how the process ended.
type Outcome struct {
	ExitCode  int
	TimedOut  bool // execution_timeout hit
	Cancelled bool // ctx ended (shutdown)
	Err       error
	// Output is a successful try's result for task.<id>.output.
	Output string
	// NextPoke is set when a sensor in reschedule mode must poke again.
	NextPoke time.Time

	// explicit: the task produced Output on purpose (an operator, or
	// $AIRD_OUTPUT_FILE), so it is kept even when no task reads it.
	explicit bool
	// outputErr is why Output could not be taken (too large); it fails
	// the try only if the output is to be kept.
	outputErr error
}

// OK reports a clean exit 0.
func (o Outcome) OK() bool { return o.Err == nil && o.ExitCode == 0 && !o.TimedOut && !o.Cancelled }

// Exec runs s with sh -c in a new process group. A timeout or ctx end sends
// SIGTERM to the whole group and SIGKILL after KillGrace, so a task that
// ignores SIGTERM or leaves children behind is still stopped.
func Exec(ctx context.Context, s Spec, out io.Writer) Outcome {
	cmd := exec.Command("/bin/sh", "-c", s.Command)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = s.Env, s.Dir, out, out
	if s.Stdout != nil {
		cmd.Stdout = s.Stdout
	}
	// Pdeathsig: if aird dies, its tasks die too instead of running on unmanaged.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Bounds Wait when out is not a file and a stray child holds the pipe.
	cmd.WaitDelay = s.KillGrace + time.Second
	if err := cmd.Start(); err != nil {
		return Outcome{ExitCode: -1, Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var o Outcome
	var timeout <-chan time.Time
	if s.Timeout > 0 {
		t := time.NewTimer(s.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case err = <-done:
	case <-timeout:
		o.TimedOut = true
		err = stopGroup(cmd.Process.Pid, done, s.KillGrace)
	case <-ctx.Done():
		o.Cancelled = true
		err = stopGroup(cmd.Process.Pid, done, s.KillGrace)
	}
	// Reap anything the task left running in its group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	o.ExitCode = exitCode(err)
	if o.ExitCode == -1 {
		o.Err = err
	}
	return o
}

func stopGroup(pid int, done <-chan error, grace time.Duration) error {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return <-done
	}
}

// exitCode maps Wait's error to a shell-style code (128+signal).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}
