package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// Rollback puts a release that is already on the hosts back in service:
// name, or with name "" each host's release created before its current
// one. It is a deploy of an existing release and goes through the same
// code as Deploy: per host the deploy lock (a rollback and a deploy
// exclude each other; Options.ForceUnlock applies), then activate
// (install the release's units and config from its manifest when they
// differ from current's, which re-adds the Redis include line; switch
// current; restart what the change needs in restartOrder; the /health
// gate), then the audit line (Action "rollback") and the unlock. Hosts go
// in parallel and in Options.Batch batches as for Deploy; progress goes to
// Options.Progress, with the extra step StepSelect. Only settings is
// needed of the project, for the paths, units and ports the release was
// rendered with (the host holds no copy of them outside the rendered
// files); nothing is built or sent.
//
// There is no upload and no migration, and migrations are not undone: a
// deploy migrates before it switches, so the release being gone back to
// already ran against the migrated schema until its restart, and aird's
// migrations only go forward; reversing one would drop data written since.
//
// No release is pruned: the one left stays for a roll forward. When the
// release gone back to fails to restart or fails the health gate, the host
// is left on it and reported Failed: Rollback does not switch back to the
// release it left (presumably the broken one), which could only bounce
// between two bad releases; the error says what to do. A host already on
// the release is Unchanged and not touched. The error, if any, wraps
// ErrFailed and each failed host's error; a host that cannot be locked
// fails with a *LockedError naming the holder.
func Rollback(ctx context.Context, hosts []Host, settings render.Settings, name string, opts Options) (Result, error) {
	if name != "" && !release.ValidName(name) {
		return Result{}, fmt.Errorf("rollback: %q is not a release name (16 hex digits, as \"airctl releases\" lists them)", name)
	}
	if err := settings.Validate(); err != nil {
		return Result{}, fmt.Errorf("rollback: %w", err)
	}
	opts = opts.withDefaults()
	d := &deployer{settings: settings, rollback: true, target: name, opts: opts, secrets: settings.SecretValues()}
	res := Result{Release: name, Hosts: d.run(ctx, hosts)}
	if res.Release == "" {
		res.Release = commonRelease(res.Hosts)
	}
	return res, failure("rollback", res)
}

// commonRelease is the release every host went to, "" if they differ.
func commonRelease(hosts []HostResult) string {
	common := ""
	for i, h := range hosts {
		if i > 0 && h.Release != common {
			return ""
		}
		common = h.Release
	}
	return common
}

// revert is Rollback's part between taking and releasing the lock.
func (r *hostRun) revert(ctx context.Context) error {
	cur := r.st.CurrentManifest()
	r.res.Previous = r.st.Current
	var to *release.Manifest
	if err := r.step(ctx, StepSelect, func(context.Context) (string, error) {
		m, err := pickRelease(r.st, r.d.target)
		if err != nil {
			return "", err
		}
		to, r.res.Release = m, m.Hash
		return fmt.Sprintf("release %s (created %s), current %s", m.Hash, m.Created.UTC().Format(timeFormat), orNone(r.st.Current)), nil
	}); err != nil {
		return err
	}
	if to.Hash == r.st.Current {
		r.res.Outcome = Unchanged
		return nil
	}
	r.res.Changed = release.Changed(cur, to)
	r.emit(StepUpload, StatusSkipped, "rollback: release "+to.Hash+" is on the host already", nil)
	r.emit(StepMigrate, StatusSkipped, "rollback: migrations are not undone (they only go forward; the release ran against the migrated schema already)", nil)
	switched, err := r.activate(ctx, cur, to)
	switch {
	case err == nil:
		r.res.Outcome = RolledBack
		return nil
	case !switched:
		return fmt.Errorf("%w; still on release %s", err, orNone(r.st.Current))
	default:
		return fmt.Errorf("%w; release %s is current now and was NOT switched back to %s, which was being rolled back from: "+
			"fix the cause (see `journalctl` on the host; it may lie outside the release: database, Redis, disk), then roll back or deploy again",
			err, to.Hash, orNone(r.st.Current))
	}
}

// timeFormat shows release creation times.
const timeFormat = "2006-01-02T15:04:05Z"

// pickRelease finds the release a rollback goes to in a host's state: name,
// or without it the newest release created before current.
func pickRelease(st release.State, name string) (*release.Manifest, error) {
	if name != "" {
		if m := st.Releases[name]; m != nil {
			return m, nil
		}
		if why, ok := st.Foreign[name]; ok {
			return nil, fmt.Errorf("releases/%s on this host is not a usable release (%s); it has %s", name, why, available(st))
		}
		return nil, fmt.Errorf("release %s is not on this host; it has %s", name, available(st))
	}
	cur := st.CurrentManifest()
	if cur == nil {
		if st.Current != "" {
			return nil, fmt.Errorf("current points at %s, which is not a usable release: name the release to go back to; this host has %s", st.Current, available(st))
		}
		return nil, fmt.Errorf("no current release: nothing to roll back from; this host has %s", available(st))
	}
	for _, n := range st.Newest() {
		if m := st.Releases[n]; n != st.Current && m.Created.Before(cur.Created) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no release older than the current one (%s) on this host: name one; it has %s", st.Current, available(st))
}

// available lists a host's releases for an error message, newest first.
func available(st release.State) string {
	names := st.Newest()
	if len(names) == 0 {
		return "no releases"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " (created " + st.Releases[n].Created.UTC().Format(timeFormat)
		if n == st.Current {
			parts[i] += ", current"
		}
		parts[i] += ")"
	}
	return strings.Join(parts, ", ")
}

// rollback puts release prev back after next failed to restart or to pass
// the health gate: its units and config, the current symlink, a restart in
// the same order, and a health check. It runs to completion even when ctx
// was cancelled (that may be why we are here).
func (r *hostRun) rollback(ctx context.Context, prev, next *release.Manifest, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if prev == nil {
		r.res.Outcome = Failed
		r.emit(StepRollback, StatusSkipped, "first release on this host: nothing to roll back to", nil)
		return fmt.Errorf("%w; this was the host's first release, so there is nothing to roll back to: fix the problem and deploy again", cause)
	}
	var healthErr error
	err := r.step(ctx, StepRollback, func(ctx context.Context) (string, error) {
		var err error
		healthErr, err = r.restore(ctx, prev, next)
		if err != nil {
			return "", err
		}
		if healthErr != nil {
			return "back on " + prev.Hash + ", which is not healthy either", nil
		}
		return "back on " + prev.Hash + ", healthy", nil
	})
	switch {
	case err != nil:
		r.res.Outcome = Failed
		return fmt.Errorf("%w; ROLLBACK to release %s FAILED TOO: %w; the host needs attention (check `readlink %s/current` and the units)", cause, prev.Hash, err, r.root)
	case healthErr != nil:
		r.res.Outcome = RolledBack
		return fmt.Errorf("%w; rolled back to release %s, but it fails the health gate too (%w): the cause may lie outside the release (database, Redis, disk)", cause, prev.Hash, healthErr)
	default:
		r.res.Outcome = RolledBack
		return fmt.Errorf("%w; rolled back to release %s, which is healthy", cause, prev.Hash)
	}
}

// restore does the rollback's work; healthErr is the health gate's verdict
// on prev, err a failure to get there at all.
func (r *hostRun) restore(ctx context.Context, prev, next *release.Manifest) (healthErr, err error) {
	c, err := r.live(ctx)
	if err != nil {
		return nil, err
	}
	if prev.CategoryHash(release.Config) != next.CategoryHash(release.Config) || prev.CategoryHash(release.Units) != next.CategoryHash(release.Units) {
		if _, err := r.install(ctx, c, prev); err != nil {
			return nil, err
		}
	}
	if _, err := (release.Host{Client: c, Root: r.root}).Switch(ctx, prev.Hash); err != nil {
		return nil, err
	}
	since, units, err := r.restart(ctx, c, next, prev, false)
	if err != nil {
		return nil, err
	}
	r.emit(StepRollback, StatusProgress, "restarted "+strings.Join(units, ", "), nil)
	o := r.d.opts
	return waitHealthy(ctx, c, r.d.settings.WebserverPort, o.HealthPath, since, o.HealthTimeout, o.HealthInterval), nil
}

// live returns a working connection, dialling again if the one we had died
// (a dropped link must not leave the host locked or half rolled back).
func (r *hostRun) live(ctx context.Context) (*ssh.Client, error) {
	if r.c != nil && r.c.Err() == nil {
		return r.c, nil
	}
	c, err := ssh.Dial(ctx, r.h.SSH)
	if err != nil {
		return nil, fmt.Errorf("reconnect after the connection was lost: %w", err)
	}
	if r.c != nil {
		_ = r.c.Close()
	}
	r.c = c
	return c, nil
}
