package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/airctl/airctl/deploy/release"
)

// finish prunes old releases, appends the audit line and releases the
// lock, in one round trip and in that order, so the audit log's lines are
// ordered like the deploys that held the lock. It reconnects if the
// connection died, so a dropped link does not leave the host locked.
func (r *hostRun) finish(ctx context.Context, deployErr error) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if deployErr != nil && r.res.Outcome == "" {
		r.res.Outcome = Failed
	}
	c, err := r.live(ctx)
	if err != nil {
		return "", fmt.Errorf("release the deploy lock: %w; the lock stays on the host: once sure no deploy runs there, rerun with --force-unlock", err)
	}
	drop := r.pruneList()
	rec := AuditRecord{
		Time: r.d.opts.Now().UTC(), Host: r.name, Who: r.d.opts.Who, Commit: r.d.opts.Commit,
		Release: r.res.Release, Previous: r.st.Current, Changed: r.res.Changed, Result: r.res.Outcome,
	}
	if r.d.rollback {
		rec.Action = ActionRollback
	}
	if deployErr != nil {
		rec.Error = r.d.secrets.scrubString(deployErr.Error())
	}
	script := release.PruneScript(r.root, drop) + appendAuditScript(r.root, auditLine(rec)) + unlockScript(r.root, r.lock)
	if _, err := c.OutputInput(ctx, "sh -s", strings.NewReader(script)); err != nil {
		return "", fmt.Errorf("release the deploy lock: %w", err)
	}
	r.res.Pruned = drop
	if len(drop) > 0 {
		return fmt.Sprintf("unlocked; audit logged; pruned %s", strings.Join(drop, ", ")), nil
	}
	return "unlocked; audit logged", nil
}

// pruneList picks releases to delete: only after current moved (a deploy
// or a rollback), keeping the releases before and after the move. A
// Rollback adds no release, so it prunes none: the release it left stays
// for a roll forward.
func (r *hostRun) pruneList() []string {
	if r.d.rollback || (r.res.Outcome != Deployed && r.res.Outcome != RolledBack) {
		return nil
	}
	st := release.State{Current: r.st.Current, Releases: map[string]*release.Manifest{}}
	for name, m := range r.st.Releases {
		st.Releases[name] = m
	}
	next := r.d.manifest
	next.Created = r.d.opts.Now()
	st.Releases[next.Hash] = &next
	return release.PruneList(st, r.d.opts.KeepReleases, r.st.Current, next.Hash)
}
