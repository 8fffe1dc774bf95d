package command

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

const releasesUsage = `Usage: airctl [global options] releases [options] [HOST]

  Lists the releases kept on each host of the deploy block (or only HOST),
  newest first, marking the current one with "*". Names are content
  hashes: "airctl rollback NAME" switches back to one.

Options:
  -trust-on-first-use  Record the host key of hosts not yet known.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

// hostFlags are the options of the commands that visit hosts without
// deploying.
type hostFlags struct {
	vars varFlags
	tofu bool
}

func (m *meta) hostCommandFlags(hf *hostFlags) *flag.FlagSet {
	fs := m.flagSet()
	hf.vars.m = m
	hf.vars.register(fs)
	fs.BoolVar(&hf.tofu, "trust-on-first-use", false, "record unknown host keys")
	return fs
}

func runReleases(m *meta, args []string) int {
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return m.usageError("releases takes at most one host, got %q", fs.Args())
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
		if err := m.listReleases(s.ctx, t); err != nil {
			m.showError(fmt.Errorf("%s: %w", t.host.Name, err))
			code = exitError
		}
	}
	return code
}

// hostTargets evaluates the deploy blocks and picks the hosts.
func (m *meta) hostTargets(ctx context.Context, hf hostFlags, only string) ([]sshTarget, func(), bool) {
	specs, ok := m.deploySpecs(ctx, &hf.vars)
	if !ok {
		return nil, func() {}, false
	}
	ts, cleanup, err := m.targets(specs, hf.tofu, only)
	if err != nil {
		m.showError(err)
		return nil, cleanup, false
	}
	return ts, cleanup, true
}

func (m *meta) listReleases(ctx context.Context, t sshTarget) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	c, err := ssh.Dial(ctx, t.host.SSH)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := release.Host{Client: c, Root: hostPath(t, t.spec.Settings.ReleaseRoot)}.State(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "%s:\n", t.host.Name)
	names := sortedReleases(st)
	if len(names) == 0 {
		fmt.Fprintln(m.stdout, "  (no releases: deploy with \"airctl deploy\")")
	}
	for _, n := range names {
		mark := " "
		if n == st.Current {
			mark = "*"
		}
		line := fmt.Sprintf("  %s %s  %s", mark, n, st.Releases[n].Created.UTC().Format(time.RFC3339))
		if n == st.Current {
			line += "  (current)"
		}
		fmt.Fprintln(m.stdout, line)
	}
	return nil
}

// sortedReleases names a host's releases newest first.
func sortedReleases(st release.State) []string {
	names := make([]string, 0, len(st.Releases))
	for n := range st.Releases {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := st.Releases[names[i]].Created, st.Releases[names[j]].Created
		if !a.Equal(b) {
			return a.After(b)
		}
		return names[i] < names[j]
	})
	return names
}
