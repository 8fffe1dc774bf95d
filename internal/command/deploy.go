package command

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/provision"
)

const deployUsage = `Usage: airctl [global options] deploy [options]

  Rolls the current revision (aird binary, rendered units and config,
  DAGs) out to the hosts of the configuration's deploy block, reading the
  hosts, database and bucket from the state of the last apply. Nothing is
  provisioned; "airctl apply" provisions and then deploys.

  Per host: take the deploy lock, bootstrap a fresh host, upload the
  release (files already there are not sent again), migrate the database,
  switch the current symlink, restart the services in order and wait for
  /health; a release that does not come up is rolled back. A release the
  host already runs is a no-op.

Options:
  -parallel=N           Deploy at most N hosts at once (10).
  -batch=N              Deploy in groups of N hosts; a group starts only
                        once the previous one is healthy.
  -trust-on-first-use   Record the host key of hosts not yet in
                        known_hosts_file (check the fingerprints it logs).
  -force-unlock         Remove a deploy lock left by a dead deploy.
  -binary=PATH          The linux/amd64 aird to ship. Default: the
                        linux-amd64/aird next to the airctl executable
                        (make build's layout), else bin/linux-amd64/aird in
                        the configuration directory.
  -var 'NAME=VALUE'     Set a variable. Repeatable.
  -var-file=FILE        Read variables from a .tfvars file. Repeatable.
  -input=false          Fail instead of asking for missing variables.
  -json                 One JSON object per line: progress events and the
                        result, for CI.
  -no-color             No colour in the output.
`

// deployFlags are the rollout options deploy and apply share.
type deployFlags struct {
	parallel, batch int
	tofu, force     bool
	binary          string
}

func (d *deployFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&d.parallel, "parallel", 10, "hosts deployed at once")
	fs.IntVar(&d.batch, "batch", 0, "deploy in groups of this many hosts")
	fs.BoolVar(&d.tofu, "trust-on-first-use", false, "record unknown host keys")
	fs.BoolVar(&d.force, "force-unlock", false, "remove a stale deploy lock")
	fs.StringVar(&d.binary, "binary", "", "the linux/amd64 aird to ship")
}

func runDeploy(m *meta, args []string) int {
	fs := m.flagSet()
	var df deployFlags
	df.register(fs)
	vf := varFlags{m: m}
	vf.register(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return m.usageError("deploy takes no arguments, got %q", fs.Args())
	}
	m.setJSON(*asJSON)
	s := m.interruptible()
	defer s.release()
	specs, ok := m.deploySpecs(s.ctx, &vf)
	if !ok {
		return exitError
	}
	return m.deploy(s, specs, df)
}

// deploy rolls each spec out in turn and reports per host.
func (m *meta) deploy(s *stops, specs []provision.DeploySpec, df deployFlags) int {
	bin, err := m.airdBinary(df.binary)
	if err != nil {
		return m.fail(err)
	}
	code := exitOK
	for _, spec := range specs {
		if !m.deployOne(s, spec, df, bin) {
			code = exitError
		}
		if s.ctx.Err() != nil {
			return exitError
		}
	}
	return code
}

func (m *meta) deployOne(s *stops, spec provision.DeploySpec, df deployFlags, bin string) bool {
	files, err := m.renderFiles(spec.Settings)
	if err != nil {
		m.showError(fmt.Errorf("deploy %q: %w", spec.Name, err))
		return false
	}
	hosts, cleanup, err := m.hostsOf(spec, df.tofu)
	defer cleanup()
	if err != nil {
		m.showError(err)
		return false
	}
	rel := deploy.Release{Settings: spec.Settings, Files: files, Binary: bin, Dags: spec.Dags}
	opts := deploy.Options{
		Parallel: df.parallel, Batch: df.batch, ForceUnlock: df.force,
		Commit: m.commitOf(s.ctx), Systemctl: spec.Systemctl, Sudo: spec.Sudo,
		// The deployer logs failed steps at warning level too; the progress
		// lines already show them, so only errors beyond those are logged.
		Progress: m.deployProgress(), Logger: m.logger(slog.LevelError),
	}
	if !m.json {
		fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold(fmt.Sprintf("Deploying %q to %d host(s)", spec.Name, len(hosts))))
	}
	res, err := deploy.Deploy(s.ctx, hosts, rel, opts)
	m.deployResult(spec.Name, res, err)
	return err == nil
}

// deployEvent is a progress line in -json mode.
type deployEvent struct {
	Type string `json:"type"`
	deploy.Event
}

// deployProgress prints one line per host and step, or a JSON object.
func (m *meta) deployProgress() func(deploy.Event) {
	if m.json {
		enc := json.NewEncoder(m.stdout)
		return func(e deploy.Event) { _ = enc.Encode(deployEvent{Type: "deploy_progress", Event: e}) }
	}
	return func(e deploy.Event) {
		var line string
		switch e.Status {
		case deploy.StatusStarted:
			line = fmt.Sprintf("%s: %s...", e.Host, e.Step)
		case deploy.StatusProgress:
			line = fmt.Sprintf("%s: %s: %s", e.Host, e.Step, e.Message)
		case deploy.StatusDone:
			line = fmt.Sprintf("%s: %s done after %s", e.Host, e.Step, e.Elapsed.Round(time.Millisecond))
			if e.Message != "" {
				line += ": " + e.Message
			}
		case deploy.StatusSkipped:
			line = fmt.Sprintf("%s: %s skipped: %s", e.Host, e.Step, e.Message)
		case deploy.StatusFailed:
			line = fmt.Sprintf("%s: %s %s: %s", e.Host, e.Step, m.opts().Error(), e.Error)
		default:
			line = fmt.Sprintf("%s: %s %s %s", e.Host, e.Step, e.Status, e.Message)
		}
		fmt.Fprintln(m.stdout, line)
	}
}

// hostResultJSON is a host's outcome in the -json result.
type hostResultJSON struct {
	Host      string   `json:"host"`
	Outcome   string   `json:"outcome"`
	Release   string   `json:"release"`
	Previous  string   `json:"previous,omitempty"`
	Restarted []string `json:"restarted,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func (m *meta) deployResult(name string, res deploy.Result, err error) {
	if m.json {
		out := struct {
			Type    string           `json:"type"`
			Deploy  string           `json:"deploy"`
			Release string           `json:"release"`
			Hosts   []hostResultJSON `json:"hosts"`
			Error   string           `json:"error,omitempty"`
		}{Type: "deploy_result", Deploy: name, Release: res.Release}
		for _, h := range res.Hosts {
			hj := hostResultJSON{Host: h.Host, Outcome: string(h.Outcome), Release: h.Release, Previous: h.Previous, Restarted: h.Restarted}
			if h.Err != nil {
				hj.Error = h.Err.Error()
			}
			out.Hosts = append(out.Hosts, hj)
		}
		if err != nil {
			out.Error = err.Error()
		}
		_ = json.NewEncoder(m.stdout).Encode(out)
		return
	}
	counts := map[deploy.Outcome]int{}
	for _, h := range res.Hosts {
		counts[h.Outcome]++
		if h.Err != nil {
			m.showError(fmt.Errorf("%s: %w", h.Host, h.Err))
		}
	}
	if err != nil && len(res.Hosts) == 0 {
		m.showError(err)
		return
	}
	var parts []string
	for _, o := range []deploy.Outcome{deploy.Deployed, deploy.Unchanged, deploy.RolledBack, deploy.Failed, deploy.Skipped} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	msg := fmt.Sprintf("Deploy complete! Release %s: %s.", res.Release, strings.Join(parts, ", "))
	if err != nil {
		msg = fmt.Sprintf("Deploy failed. Release %s: %s.", res.Release, strings.Join(parts, ", "))
	}
	fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold(msg))
}

// deployAfterApply waits for the deploys the apply started early and,
// if the apply succeeded (code), deploys the remaining blocks against the
// state it wrote.
func (o *operation) deployAfterApply(s *stops, df deployFlags, code int, early *earlyDeploys) int {
	started, ok := early.wait()
	if !ok {
		code = exitError
	}
	var rest []string
	for name := range o.cfg.Deploys {
		if !slices.Contains(started, name) {
			rest = append(rest, name)
		}
	}
	if code != exitOK || len(rest) == 0 || s.ctx.Err() != nil {
		return code
	}
	st, err := o.backend.Read(s.ctx)
	if err != nil {
		return o.m.fail(fmt.Errorf("read the state to deploy: %w", err))
	}
	return o.deployBlocks(s, st, rest, df)
}

// sshTimeout bounds each read-only remote command (releases, status).
const sshTimeout = 30 * time.Second

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, sshTimeout)
}
