package deploy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// cleanupTimeout bounds what runs after a failure or Ctrl-C (rollback,
// releasing the lock): it must not be cut short by the cancelled context
// that caused it, nor hang forever.
const cleanupTimeout = 5 * time.Minute

// deployer is one Deploy or Rollback call.
type deployer struct {
	settings render.Settings
	opts     Options
	secrets  secrets

	// Deploy: what is shipped.
	plan     *release.Plan
	manifest release.Manifest

	// Rollback: no plan; target is the release asked for, "" for the one
	// before current on each host.
	rollback bool
	target   string

	progressMu sync.Mutex
}

// releaseName is the release hosts are headed for, as far as known before
// reading them ("" for a rollback to each host's previous release).
func (d *deployer) releaseName() string {
	if d.rollback {
		return d.target
	}
	return d.manifest.Hash
}

// succeeded reports whether a host ended up running the release asked
// for, which a batch needs of every host before the next starts.
func (d *deployer) succeeded(o Outcome) bool {
	if d.rollback {
		return o == RolledBack || o == Unchanged
	}
	return o == Deployed || o == Unchanged
}

// hostRun is one host's rollout.
type hostRun struct {
	d    *deployer
	h    Host
	name string
	root string // release root on the host, DestDir included
	c    *ssh.Client
	lock LockInfo
	st   release.State // as found under the lock
	res  *HostResult

	redisInclude bool // the include line had to be (re)added
}

func (d *deployer) deployHost(ctx context.Context, h Host) HostResult {
	start := time.Now()
	if h.SSH.Logger == nil {
		h.SSH.Logger = d.opts.Logger
	}
	r := &hostRun{
		d: d, h: h, name: h.name(),
		root: h.path(d.settings.ReleaseRoot),
		lock: newLockInfo(d.opts),
		res:  &HostResult{Host: h.name(), Release: d.releaseName()},
	}
	err := r.run(ctx)
	if err != nil && r.res.Outcome == "" {
		r.res.Outcome = Failed
	}
	r.res.Err = d.secrets.scrub(err)
	r.res.Duration = time.Since(start)
	return *r.res
}

func (r *hostRun) run(ctx context.Context) (err error) {
	if err := r.step(ctx, StepConnect, r.connect); err != nil {
		return err
	}
	defer func() { _ = r.c.Close() }()
	if err := r.step(ctx, StepLock, r.acquire); err != nil {
		return err
	}
	defer func() {
		if ferr := r.step(ctx, StepUnlock, func(ctx context.Context) (string, error) { return r.finish(ctx, err) }); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}()
	if r.d.rollback {
		return r.revert(ctx)
	}
	return r.deploy(ctx)
}

func (r *hostRun) connect(ctx context.Context) (string, error) {
	c, err := ssh.Dial(ctx, r.h.SSH)
	if err != nil {
		return "", err
	}
	r.c = c
	return "connected to " + c.Addr() + " as " + r.h.SSH.User, nil
}

func (r *hostRun) acquire(ctx context.Context) (string, error) {
	st, forced, err := acquire(ctx, r.c, r.d.opts, r.name, r.root, r.lock, !r.d.rollback)
	if err != nil {
		return "", err
	}
	r.st = st
	if forced != "" {
		r.d.opts.Logger.Warn("force-unlock: removed another deploy's lock", "host", r.name, "holder", forced)
		return "locked (forcibly removed the lock of " + forced + ")", nil
	}
	return "locked", nil
}

// deploy runs the steps between taking and releasing the lock.
func (r *hostRun) deploy(ctx context.Context) error {
	cur, next := r.st.CurrentManifest(), &r.d.manifest
	r.res.Previous = r.st.Current
	if r.st.Current == next.Hash {
		r.res.Outcome = Unchanged
		return nil
	}
	r.res.Changed = release.Changed(cur, next)
	first := cur == nil
	if err := r.optional(ctx, first, StepBootstrap, "host already set up", r.bootstrap); err != nil {
		return err
	}
	if err := r.step(ctx, StepUpload, r.upload); err != nil {
		return err
	}
	if err := r.optional(ctx, needsRestart(r.res.Changed), StepMigrate, "DAG-only change", r.migrate); err != nil {
		return err
	}
	if switched, err := r.activate(ctx, cur, next); err != nil {
		if switched {
			return r.rollback(ctx, cur, next, err)
		}
		return err
	}
	r.res.Outcome = Deployed
	return nil
}

// needsRestart reports whether a change needs the services restarted (and
// the database migrated): anything but DAGs, which aird reads as they are.
func needsRestart(changed []release.Category) bool {
	return slices.ContainsFunc(changed, func(c release.Category) bool { return c != release.Dags })
}

// activate makes next, complete on the host, the running release after
// cur (nil: none), given r.res.Changed between them: it installs next's
// units and config when they differ (re-adding the Redis include line),
// switches current, restarts what the change needs in order and gates on
// /health. Deploy and Rollback both go through here.
//
// A failure before the switch puts cur's units and config back and
// returns switched false: the host runs cur as before. A failure after it
// (restart, health) returns switched true with current on next; whether to
// go back is the caller's decision.
func (r *hostRun) activate(ctx context.Context, cur, next *release.Manifest) (switched bool, err error) {
	first := cur == nil
	install := first || slices.Contains(r.res.Changed, release.Config) || slices.Contains(r.res.Changed, release.Units)
	if err := r.optional(ctx, install, StepInstall, "config and units unchanged", func(ctx context.Context) (string, error) {
		return r.install(ctx, r.c, next)
	}); err != nil {
		return false, r.reinstall(ctx, install, cur, err)
	}
	if err := r.step(ctx, StepSwitch, r.switchTo(next.Hash)); err != nil {
		return false, r.reinstall(ctx, install, cur, err)
	}
	if !needsRestart(r.res.Changed) {
		r.emit(StepRestart, StatusSkipped, "DAG-only change: nothing restarted, aird picks up the new DAG folder", nil)
		return true, nil
	}
	return true, r.restartAndCheck(ctx, r.c, cur, next, first)
}

// reinstall puts the current release's units and config back after the
// new ones were (perhaps partly) installed but current could not be
// switched: the running release must not restart into another's config.
func (r *hostRun) reinstall(ctx context.Context, installed bool, cur *release.Manifest, cause error) error {
	if !installed || cur == nil {
		return cause
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	c, err := r.live(ctx)
	if err == nil {
		_, err = r.install(ctx, c, cur)
	}
	if err != nil {
		return fmt.Errorf("%w; putting back the units and config of release %s failed too: %w", cause, cur.Hash, err)
	}
	return fmt.Errorf("%w; the units and config of release %s were put back", cause, cur.Hash)
}

// optional runs a step when do holds and reports it skipped otherwise.
func (r *hostRun) optional(ctx context.Context, do bool, s Step, why string, fn func(context.Context) (string, error)) error {
	if !do {
		r.emit(s, StatusSkipped, why, nil)
		return nil
	}
	return r.step(ctx, s, fn)
}

func (r *hostRun) bootstrap(ctx context.Context) (string, error) {
	script := bootstrapScript(r.d.opts, r.h, r.d.settings)
	if _, err := r.c.OutputInput(ctx, "sh -s", strings.NewReader(script)); err != nil {
		return "", fmt.Errorf("bootstrap (user, Redis, directories): %w", err)
	}
	return "service user, Redis and directories in place", nil
}

func (r *hostRun) upload(ctx context.Context) (string, error) {
	opts := release.UploadOptions{Concurrency: r.d.opts.UploadConcurrency, Now: r.d.opts.Now}
	if hook := r.d.opts.OnUploadBytes; hook != nil {
		opts.OnBytes = func(total int64) { hook(r.name, total) }
	}
	stats, err := release.Host{Client: r.c, Root: r.root}.Upload(ctx, r.d.plan, r.st, opts)
	r.res.Upload = stats
	if err != nil {
		return "", err
	}
	if stats.Present {
		return "release " + r.d.manifest.Hash + " already on the host", nil
	}
	return fmt.Sprintf("release %s: sent %d files (%d bytes), reused %d from earlier releases",
		r.d.manifest.Hash, stats.SFTPWrites-1, stats.BytesSent, stats.Linked), nil
}

// migrate runs the new release's `aird db migrate` with the new config and
// secrets, before anything switches: a failed migration leaves the host
// exactly as it was. It runs as the login user, with a clean environment
// like systemd's.
func (r *hostRun) migrate(ctx context.Context) (string, error) {
	s, q := r.d.settings, ssh.Quote
	rel := path.Join(r.root, "releases", r.d.manifest.Hash)
	inner := fmt.Sprintf("set -a; . %s; set +a; exec %s --config %s db migrate",
		q(path.Join(rel, confDir, path.Base(s.EnvPath()))), q(path.Join(rel, binPath)), q(path.Join(rel, confDir, path.Base(s.ConfigPath()))))
	out, err := r.c.Output(ctx, `env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME" sh -c `+q(inner))
	var exitErr *ssh.ExitError
	if errors.As(err, &exitErr) {
		return "", fmt.Errorf("aird db migrate of release %s exited with status %d, nothing was switched: %s", r.d.manifest.Hash, exitErr.Code, stderrOf(exitErr))
	}
	if err != nil {
		return "", fmt.Errorf("aird db migrate failed, nothing was switched: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (r *hostRun) install(ctx context.Context, c *ssh.Client, m *release.Manifest) (string, error) {
	out, err := c.OutputInput(ctx, "sh -s", strings.NewReader(installScript(r.d.opts, r.h, r.d.settings, r.root, m)))
	if err != nil {
		return "", fmt.Errorf("install units and config of release %s: %w", m.Hash, err)
	}
	if strings.Contains(string(out), "redis-include-added") {
		r.redisInclude = true
		return "units and config installed; include line added to redis.conf", nil
	}
	return "units and config installed", nil
}

func (r *hostRun) switchTo(name string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		prev, err := release.Host{Client: r.c, Root: r.root}.Switch(ctx, name)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("current: %s -> %s", orNone(prev), name), nil
	}
}

func stderrOf(e *ssh.ExitError) string {
	if s := strings.TrimSpace(e.Stderr); s != "" {
		return s
	}
	return "(nothing on stderr; run the migration by hand on the host to see more)"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// restartAndCheck restarts what the change from→to needs and waits for
// health.
func (r *hostRun) restartAndCheck(ctx context.Context, c *ssh.Client, from, to *release.Manifest, first bool) error {
	var since time.Time
	if err := r.step(ctx, StepRestart, func(ctx context.Context) (string, error) {
		var err error
		since, r.res.Restarted, err = r.restart(ctx, c, from, to, first)
		return strings.Join(r.res.Restarted, ", "), err
	}); err != nil {
		return err
	}
	return r.step(ctx, StepHealth, func(ctx context.Context) (string, error) {
		o := r.d.opts
		if err := waitHealthy(ctx, c, r.d.settings.WebserverPort, o.HealthPath, since, o.HealthTimeout, o.HealthInterval); err != nil {
			return "", err
		}
		return "webserver healthy, scheduler heartbeat fresh", nil
	})
}
