package command

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

const statusUsage = `Usage: airctl [global options] status [options] [HOST]

  Shows, per host of the deploy block (or only HOST): the current release,
  whether each aird unit is active (systemctl is-active, through the
  block's systemctl prefix) and what the webserver's /health answers,
  probed on the host's loopback through the SSH connection.

  Exits 1 if a host cannot be reached, a unit is not active or /health
  does not answer 200.

Options:
  -trust-on-first-use  Record the host key of hosts not yet known.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

func runStatus(m *meta, args []string) int {
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return m.usageError("status takes at most one host, got %q", fs.Args())
	}
	s := m.interruptible()
	defer s.release()
	ts, cleanup, ok := m.hostTargets(s.ctx, hf, fs.Arg(0))
	defer cleanup()
	if !ok {
		return exitError
	}
	code := exitOK
	for _, t := range ts {
		healthy, err := m.hostStatus(s.ctx, t)
		if err != nil {
			m.showError(fmt.Errorf("%s: %w", t.host.Name, err))
		}
		if err != nil || !healthy {
			code = exitError
		}
	}
	return code
}

// hostStatus prints one host's status; healthy is false when a unit is
// not active or /health fails.
func (m *meta) hostStatus(ctx context.Context, t sshTarget) (healthy bool, err error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	c, err := ssh.Dial(ctx, t.host.SSH)
	if err != nil {
		return false, err
	}
	defer c.Close()
	st, err := release.Host{Client: c, Root: hostPath(t, t.spec.Settings.ReleaseRoot)}.State(ctx)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(m.stdout, "%s:\n  release: %s\n", t.host.Name, orNoRelease(st.Current))
	healthy = st.Current != ""
	units := t.spec.Settings.EnableUnits()
	// is-active prints one state per unit, in order, and exits non-zero
	// if any is not active: the output, not the exit code, is read.
	res, err := c.Run(ctx, systemctlOf(t.spec)+" is-active "+ssh.Join(units...))
	if err != nil {
		return false, err
	}
	states := strings.Fields(string(res.Stdout))
	for i, u := range units {
		state := "unknown"
		if i < len(states) {
			state = states[i]
		}
		if state != "active" {
			healthy = false
		}
		fmt.Fprintf(m.stdout, "  %-28s %s\n", u, state)
	}
	verdict := m.health(ctx, c, t.spec.Settings.WebserverPort)
	if verdict != "200 OK" {
		healthy = false
	}
	fmt.Fprintf(m.stdout, "  health: %s\n", verdict)
	return healthy, nil
}

func orNoRelease(s string) string {
	if s == "" {
		return "(none deployed)"
	}
	return s
}

// health GETs /health on the host's loopback through the SSH connection
// and describes the answer: "200 OK" or what went wrong.
func (m *meta) health(ctx context.Context, c *ssh.Client, port int) string {
	client := &http.Client{Transport: &http.Transport{DialContext: c.DialContext, DisableKeepAlives: true}}
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/health"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "no answer: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return resp.Status
}
