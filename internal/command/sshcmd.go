package command

import (
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"

	"github.com/airctl/airctl/deploy/ssh"
)

const sshUsage = `Usage: airctl [global options] ssh [options] [HOST] [-- COMMAND...]

  Runs COMMAND on a host of the deploy block (the only one, or HOST) as
  the deploy user, with the block's key and known hosts, and exits with
  its exit status. Without COMMAND it opens an interactive shell through
  the system's ssh client (needs a terminal), with strict host key
  checking against the same known hosts.

Options:
  -trust-on-first-use  Record the host key of hosts not yet known.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

func runSSH(m *meta, args []string) int {
	// Split at "--" before parsing: the flag package would swallow it.
	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, command = args[:i], args[i+1:]
	}
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return m.usageError("put the command after --: airctl ssh [HOST] -- COMMAND")
	}
	host := fs.Arg(0)
	s := m.interruptible()
	defer s.release()
	ts, cleanup, ok := m.hostTargets(s.ctx, hf, host)
	defer cleanup()
	if !ok {
		return exitError
	}
	if len(ts) > 1 {
		var names []string
		for _, t := range ts {
			names = append(names, t.host.Name)
		}
		return m.usageError("the deploy block has several hosts; name one: %s", strings.Join(names, ", "))
	}
	t := ts[0]
	if len(command) == 0 {
		return m.interactiveSSH(t)
	}
	c, err := ssh.Dial(s.ctx, t.host.SSH)
	if err != nil {
		return m.fail(err)
	}
	defer c.Close()
	// One argument is taken as shell text (airctl ssh -- 'ls | wc -l'),
	// several are quoted as words, as ssh(1) would not.
	cmd := command[0]
	if len(command) > 1 {
		cmd = ssh.Join(command...)
	}
	res, err := c.Run(s.ctx, cmd)
	_, _ = m.stdout.Write(res.Stdout)
	_, _ = m.stderr.Write(res.Stderr)
	if err != nil {
		return m.fail(err)
	}
	return res.ExitCode
}

// interactiveSSH hands the terminal to the system ssh client: a full
// interactive session (pty, window size, escape sequences) is its job.
func (m *meta) interactiveSSH(t sshTarget) int {
	if !m.env.StdinTTY {
		return m.usageError("an interactive session needs a terminal; to run a command, give it after --")
	}
	host, port, _ := net.SplitHostPort(t.host.SSH.Addr)
	args := []string{"-p", port, "-o", "StrictHostKeyChecking=yes"}
	if t.host.SSH.TrustOnFirstUse {
		args[3] = "StrictHostKeyChecking=accept-new"
	}
	if f := t.host.SSH.KnownHostsFile; f != "" {
		args = append(args, "-o", "UserKnownHostsFile="+f)
	}
	if k := t.host.SSH.Auth.KeyFile; k != "" {
		args = append(args, "-i", k)
	}
	args = append(args, t.host.SSH.User+"@"+host)
	cmd := exec.Command("ssh", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = m.env.Stdin, m.env.Stdout, m.env.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return m.fail(fmt.Errorf("run ssh: %w (is OpenSSH's client installed?)", err))
	}
	return exitOK
}
