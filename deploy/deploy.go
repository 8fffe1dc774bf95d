// Package deploy rolls a release of aird out to hosts over SSH: per host it
// takes a deploy lock, bootstraps a fresh host, uploads the release
// (deploy/release: content-addressed, only new files sent), migrates the
// database, switches the current symlink, restarts the services in order
// and gates on /health, rolling back to the previous release when the new
// one does not come up. Hosts go in parallel and, for large fleets, in
// batches that each must be healthy before the next starts. Rollback puts
// a release already on the hosts back through the same steps.
//
// Nothing here assumes root on the host: the login user owns the release
// root, and every privileged step runs through Options.Sudo or
// Options.Systemctl.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path"
	"time"

	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// Host is one machine to deploy to.
type Host struct {
	// Name labels the host in progress output and the audit log; default
	// SSH.Addr.
	Name string
	SSH  ssh.Config
	// DestDir, like make's DESTDIR, is prepended to every path written on
	// the host (release root, units, config, Redis). Files keep naming the
	// real paths. Empty in production; tests use it to give each host its
	// own directory on one machine.
	DestDir string
}

func (h Host) name() string {
	if h.Name != "" {
		return h.Name
	}
	return h.SSH.Addr
}

// path maps a host path below DestDir.
func (h Host) path(p string) string {
	if h.DestDir == "" {
		return p
	}
	return path.Join(h.DestDir, p)
}

// Release is what to ship: the binary, the files rendered from Settings by
// deploy/render, and the DAG folder.
type Release struct {
	Settings render.Settings
	Files    []render.File // render.Render(Settings, overrides)
	Binary   string        // local aird built for the hosts (linux/amd64)
	Dags     string        // local DAG folder; "" ships none
}

// Options tune a deploy. The zero value is usable.
type Options struct {
	// Parallel is how many hosts are deployed at once (default 10).
	Parallel int
	// Batch, when > 0, deploys hosts in groups of this size; a group starts
	// only once every host of the previous one is healthy.
	Batch int
	// KeepReleases is how many releases each host keeps (default 5,
	// at least 2: current and the one before it are never deleted).
	KeepReleases int
	// HealthTimeout bounds the wait for /health after a restart (default
	// 60s); HealthInterval is the pause between probes (default 1s).
	HealthTimeout  time.Duration
	HealthInterval time.Duration
	// HealthPath is the webserver's health endpoint (default /health).
	HealthPath string
	// ForceUnlock removes a deploy lock left by a dead deploy. Only use it
	// when sure no other deploy is running.
	ForceUnlock bool
	// Who and Commit go into the lock and the audit log; Who defaults to
	// user@hostname.
	Who    string
	Commit string
	// Systemctl is the command prefix for systemctl (default
	// "sudo -n systemctl"); Sudo prefixes the other privileged commands
	// (default "sudo -n": fail at once rather than wait for a password no
	// one can type). Both are inserted into shell commands as they are.
	Systemctl string
	Sudo      string
	// RedisConf is the distribution's redis.conf, which gets an include
	// line for the rendered snippet (default /etc/redis/redis.conf).
	RedisConf string
	// Progress receives an event per host and step. Calls are serialised.
	Progress func(Event)
	// OnUploadBytes observes upload progress per host (running total of
	// bytes sent); it may be called from several goroutines.
	OnUploadBytes func(host string, total int64)
	// UploadConcurrency is how many files are sent at once per host.
	UploadConcurrency int
	Logger            *slog.Logger
	// Now is the clock for the audit log and manifests (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Parallel <= 0 {
		o.Parallel = 10
	}
	if o.KeepReleases <= 0 {
		o.KeepReleases = 5
	}
	o.KeepReleases = max(o.KeepReleases, 2)
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 60 * time.Second
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Second
	}
	if o.HealthPath == "" {
		o.HealthPath = "/health"
	}
	if o.Who == "" {
		o.Who = defaultWho()
	}
	if o.Systemctl == "" {
		o.Systemctl = "sudo -n systemctl"
	}
	if o.Sudo == "" {
		o.Sudo = "sudo -n"
	}
	if o.RedisConf == "" {
		o.RedisConf = "/etc/redis/redis.conf"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func defaultWho() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return name + "@" + host
}

// Outcome is how a host's deploy ended.
type Outcome string

const (
	Deployed   Outcome = "deployed"    // the new release runs and is healthy
	Unchanged  Outcome = "unchanged"   // the host already ran this release
	RolledBack Outcome = "rolled-back" // the new release failed and the previous one runs again; or Rollback's release runs and is healthy
	Failed     Outcome = "failed"      // failed, with nothing switched or no way back
	Skipped    Outcome = "skipped"     // not attempted: an earlier batch failed
)

// HostResult is what happened on one host.
type HostResult struct {
	Host      string
	Release   string             // the release deployed (Rollback: the one gone back to)
	Previous  string             // the release current pointed to before
	Changed   []release.Category // what differs from Previous
	Outcome   Outcome
	Upload    release.Stats
	Restarted []string // units restarted, in order
	Pruned    []string // releases deleted
	Err       error
	Duration  time.Duration
}

// Result is a deploy's outcome per host, in the order hosts were given.
type Result struct {
	Release string
	Hosts   []HostResult
}

// ErrFailed is wrapped by Deploy's and Rollback's error when any host did
// not end up running the release asked for.
var ErrFailed = errors.New("deploy failed")

// Deploy rolls rel out to hosts. The error, if any, wraps ErrFailed and
// each failed host's error; Result has the detail for every host.
func Deploy(ctx context.Context, hosts []Host, rel Release, opts Options) (Result, error) {
	opts = opts.withDefaults()
	plan, err := buildPlan(rel)
	if err != nil {
		return Result{}, err
	}
	d := &deployer{settings: rel.Settings, plan: plan, manifest: plan.Manifest(), opts: opts, secrets: rel.Settings.SecretValues()}
	res := Result{Release: d.manifest.Hash, Hosts: d.run(ctx, hosts)}
	return res, failure("deploy", res)
}

// failure is the error of a Deploy or Rollback whose result is res: nil
// when every host made it, else one wrapping ErrFailed and each failed
// host's error.
func failure(what string, res Result) error {
	var errs []error
	for _, h := range res.Hosts {
		if h.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Host, h.Err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &failedError{what: what, err: errors.Join(errs...)}
}

// failedError reads "<what> failed: <hosts' errors>" and matches
// ErrFailed.
type failedError struct {
	what string
	err  error
}

func (e *failedError) Error() string   { return e.what + " failed: " + e.err.Error() }
func (e *failedError) Unwrap() []error { return []error{ErrFailed, e.err} }
