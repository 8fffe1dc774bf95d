package command

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy/ssh"
)

const logsUsage = `Usage: airctl [global options] logs [options] SERVICE

  Shows the journal of aird-SERVICE (scheduler, webserver, worker@1,
  flower, ...) on each host of the deploy block, through journalctl over
  SSH (run with the block's sudo prefix, so the login user needs no
  journal group). With -f it keeps following new lines until Ctrl-C.

Options:
  -f                   Follow: print new lines as they arrive.
  -n=N                 Lines of history to show first (default 100).
  -host=HOST           Only this host.
  -trust-on-first-use  Record the host key of hosts not yet known.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

// serviceRe is what SERVICE may be: a unit name suffix, never shell text.
var serviceRe = regexp.MustCompile(`^[A-Za-z0-9@_.-]+$`)

// followInterval is how often -f asks the journal for new lines. The SSH
// client runs commands to completion, so following is polling with a
// journal cursor: no line is lost or repeated between polls.
const followInterval = time.Second

func runLogs(m *meta, args []string) int {
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	follow := fs.Bool("f", false, "follow")
	lines := fs.Int("n", 100, "lines of history")
	only := fs.String("host", "", "only this host")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 || !serviceRe.MatchString(fs.Arg(0)) {
		return m.usageError("logs takes one service name (scheduler, webserver, worker@1, flower), got %q", fs.Args())
	}
	unit := "aird-" + strings.TrimPrefix(fs.Arg(0), "aird-")
	s := m.interruptible()
	defer s.release()
	ts, cleanup, ok := m.hostTargets(s.ctx, hf, *only)
	defer cleanup()
	if !ok {
		return exitError
	}
	if *follow && len(ts) > 1 {
		return m.usageError("-f follows one host: pick it with -host=HOST")
	}
	for _, t := range ts {
		if err := m.hostLogs(s.ctx, t, unit, *lines, *follow); err != nil {
			if s.interrupted() {
				return exitOK // Ctrl-C is how -f ends
			}
			return m.fail(fmt.Errorf("%s: %w", t.host.Name, err))
		}
	}
	return exitOK
}

func (m *meta) hostLogs(ctx context.Context, t sshTarget, unit string, n int, follow bool) error {
	c, err := ssh.Dial(ctx, t.host.SSH)
	if err != nil {
		return err
	}
	defer c.Close()
	journalctl := sudoOf(t.spec) + " journalctl"
	if !follow {
		out, err := c.Output(ctx, journalctl+" --no-pager -u "+ssh.Quote(unit)+" -n "+strconv.Itoa(n))
		if err != nil {
			return fmt.Errorf("journalctl: %w (the login user needs passwordless sudo for journalctl, as for systemctl)", err)
		}
		_, err = m.stdout.Write(out)
		return err
	}
	cursor := ""
	ticker := time.NewTicker(followInterval)
	defer ticker.Stop()
	for {
		cmd := journalctl + " --no-pager --show-cursor -u " + ssh.Quote(unit)
		if cursor == "" {
			cmd += " -n " + strconv.Itoa(n)
		} else {
			cmd += " --after-cursor " + ssh.Quote(cursor)
		}
		out, err := c.Output(ctx, cmd)
		if err != nil {
			return fmt.Errorf("journalctl: %w", err)
		}
		text, next := splitCursor(string(out))
		if next != "" {
			cursor = next
		}
		if _, err := m.stdout.Write([]byte(text)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// splitCursor separates journalctl --show-cursor's trailing "-- cursor: X"
// line from the log lines.
func splitCursor(out string) (text, cursor string) {
	i := strings.LastIndex(out, "-- cursor: ")
	if i < 0 {
		return out, ""
	}
	return out[:i], strings.TrimSpace(out[i+len("-- cursor: "):])
}
