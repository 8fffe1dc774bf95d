package command

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/release"
)

const rollbackUsage = `Usage: airctl [global options] rollback [options] [RELEASE]

  Switches every host of the deploy block back to RELEASE (a name from
  "airctl releases"), or, without it, to the release created before the
  current one. It needs nothing from this machine: the release, its units
  and its config are still on the host. Per host, as a deploy does: take
  the deploy lock, reinstall the release's units and config if they differ
  (and the Redis include line), switch the current symlink, restart the
  services in order, wait for /health, append to the audit log, release
  the lock. Database migrations are not undone. A release that fails to
  come up is reported and left current, not switched back.

Options:
  -host=HOST           Only this host.
  -force-unlock        Remove a deploy lock left by a dead deploy.
  -health-timeout=DUR  How long to wait for /health (default 60s).
  -trust-on-first-use  Record the host key of hosts not yet known.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

func runRollback(m *meta, args []string) int {
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	only := fs.String("host", "", "only this host")
	force := fs.Bool("force-unlock", false, "remove a stale deploy lock")
	healthTimeout := fs.Duration("health-timeout", 60*time.Second, "wait for /health")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return m.usageError("rollback takes at most one release name, got %q", fs.Args())
	}
	target := fs.Arg(0)
	if target != "" && !release.ValidName(target) {
		return m.usageError("%q is not a release name; \"airctl releases\" lists them", target)
	}
	s := m.interruptible()
	defer s.release()
	ts, cleanup, ok := m.hostTargets(s.ctx, hf, *only)
	defer cleanup()
	if !ok {
		return exitError
	}
	commit := m.commitOf(s.ctx)
	code := exitOK
	// One deploy.Rollback per deploy block: its hosts share the settings.
	for len(ts) > 0 {
		n := 1
		for n < len(ts) && ts[n].spec.Name == ts[0].spec.Name {
			n++
		}
		spec, hosts := ts[0].spec, make([]deploy.Host, n)
		for i, t := range ts[:n] {
			hosts[i] = t.host
		}
		ts = ts[n:]
		opts := deploy.Options{
			ForceUnlock: *force, HealthTimeout: *healthTimeout,
			Commit: commit, Systemctl: spec.Systemctl, Sudo: spec.Sudo,
			Progress: m.deployProgress(), Logger: m.logger(slog.LevelError),
		}
		res, err := deploy.Rollback(s.ctx, hosts, spec.Settings, target, opts)
		if err != nil {
			code = exitError
			if len(res.Hosts) == 0 {
				m.showError(err)
				continue
			}
		}
		for _, h := range res.Hosts {
			switch {
			case h.Err != nil:
				m.showError(fmt.Errorf("%s: rollback: %w", h.Host, h.Err))
			case h.Outcome == deploy.Unchanged:
				fmt.Fprintf(m.stdout, "%s: already on release %s; nothing to do\n", h.Host, h.Release)
			case len(h.Restarted) == 0:
				fmt.Fprintf(m.stdout, "%s: rolled back %s -> %s; only DAGs differ: nothing restarted\n", h.Host, orNoRelease(h.Previous), h.Release)
			default:
				fmt.Fprintf(m.stdout, "%s: rolled back %s -> %s, healthy (restarted %s)\n", h.Host, orNoRelease(h.Previous), h.Release, strings.Join(h.Restarted, ", "))
			}
		}
	}
	return code
}
