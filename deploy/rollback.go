package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

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
	return waitHealthy(ctx, c, r.d.rel.Settings.WebserverPort, o.HealthPath, since, o.HealthTimeout, o.HealthInterval), nil
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
