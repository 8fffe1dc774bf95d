package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// Result is what a remote command produced.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// ExitError is a command that ran and exited non-zero (or died of a signal).
type ExitError struct {
	Cmd    string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("remote command exited with status %d: %s", e.Code, abbreviate(e.Cmd, 120))
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + abbreviate(s, 2000)
	}
	return msg
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Run runs cmd through the login shell on the host. A non-zero exit is not
// an error here (see Result.ExitCode and Output); err reports a transport
// failure or ctx ending, in which case the remote command is sent SIGKILL
// and its session closed.
func (c *Client) Run(ctx context.Context, cmd string) (Result, error) {
	return c.RunInput(ctx, cmd, nil)
}

// RunInput is Run with stdin fed from r, e.g. a script for `sh -s`, which
// keeps long scripts off the command line.
func (c *Client) RunInput(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	var res Result
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("ssh %s: %q: %w", c.cfg.Addr, abbreviate(cmd, 120), err)
	}
	sess, err := c.conn.NewSession()
	if err != nil {
		return res, fmt.Errorf("ssh %s: new session: %w", c.cfg.Addr, c.wrapErr(err))
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &stdout, &stderr, stdin
	if err := sess.Start(cmd); err != nil {
		return res, fmt.Errorf("ssh %s: start %q: %w", c.cfg.Addr, abbreviate(cmd, 120), c.wrapErr(err))
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// Closing the channel alone leaves the remote process running until
		// it next writes; the signal ends it now (OpenSSH ≥ 7.9 honours it).
		_ = sess.Signal(gossh.SIGKILL)
		_ = sess.Close()
		<-waited
		return res, fmt.Errorf("ssh %s: %q: %w", c.cfg.Addr, abbreviate(cmd, 120), ctx.Err())
	}
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	return res, c.exitStatus(cmd, err, &res)
}

// exitStatus fills res.ExitCode from Wait's error and keeps only transport
// failures as errors.
func (c *Client) exitStatus(cmd string, err error, res *Result) error {
	var exitErr *gossh.ExitError
	var missing *gossh.ExitMissingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitStatus()
		if exitErr.Signal() != "" && res.ExitCode == 0 {
			res.ExitCode = -1
		}
		return nil
	case errors.As(err, &missing):
		return fmt.Errorf("ssh %s: %q ended without an exit status: %w", c.cfg.Addr, abbreviate(cmd, 120), c.wrapErr(err))
	default:
		return fmt.Errorf("ssh %s: %q: %w", c.cfg.Addr, abbreviate(cmd, 120), c.wrapErr(err))
	}
}

// Output runs cmd and returns its stdout, turning a non-zero exit into an
// *ExitError carrying stderr.
func (c *Client) Output(ctx context.Context, cmd string) ([]byte, error) {
	return c.OutputInput(ctx, cmd, nil)
}

// OutputInput is Output with stdin.
func (c *Client) OutputInput(ctx context.Context, cmd string, stdin io.Reader) ([]byte, error) {
	res, err := c.RunInput(ctx, cmd, stdin)
	if err != nil {
		return res.Stdout, err
	}
	if res.ExitCode != 0 {
		return res.Stdout, &ExitError{Cmd: cmd, Code: res.ExitCode, Stderr: string(res.Stderr)}
	}
	return res.Stdout, nil
}
