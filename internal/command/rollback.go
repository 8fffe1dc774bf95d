package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
)

const rollbackUsage = `Usage: airctl [global options] rollback [options] [RELEASE]

  Switches every host of the deploy block back to RELEASE (a name from
  "airctl releases"), or, without it, to the release created before the
  current one. It needs nothing from this machine: the release, its units
  and its config are still on the host. Per host: take the deploy lock,
  reinstall the release's units and config, switch the current symlink,
  restart the services in order, wait for /health, append to the audit
  log, release the lock.

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

// rollbackLockDir is the deployer's lock directory (deploy/lock.go): a
// rollback and a deploy must exclude each other.
const rollbackLockDir = ".deploy.lock"

type rollbackRun struct {
	m             *meta
	target        string
	force         bool
	healthTimeout time.Duration
	commit        string
}

func runRollback(m *meta, args []string) int {
	var hf hostFlags
	fs := m.hostCommandFlags(&hf)
	only := fs.String("host", "", "only this host")
	r := rollbackRun{m: m}
	fs.BoolVar(&r.force, "force-unlock", false, "remove a stale deploy lock")
	fs.DurationVar(&r.healthTimeout, "health-timeout", 60*time.Second, "wait for /health")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return m.usageError("rollback takes at most one release name, got %q", fs.Args())
	}
	r.target = fs.Arg(0)
	if r.target != "" && !release.ValidName(r.target) {
		return m.usageError("%q is not a release name; \"airctl releases\" lists them", r.target)
	}
	s := m.interruptible()
	defer s.release()
	ts, cleanup, ok := m.hostTargets(s.ctx, hf, *only)
	defer cleanup()
	if !ok {
		return exitError
	}
	r.commit = m.commitOf(s.ctx)
	code := exitOK
	for _, t := range ts {
		msg, err := r.host(s.ctx, t)
		if err != nil {
			m.showError(fmt.Errorf("%s: rollback: %w", t.host.Name, err))
			code = exitError
			continue
		}
		fmt.Fprintf(m.stdout, "%s: %s\n", t.host.Name, msg)
	}
	return code
}

// host rolls one host back under the deploy lock.
func (r *rollbackRun) host(ctx context.Context, t sshTarget) (msg string, err error) {
	c, err := ssh.Dial(ctx, t.host.SSH)
	if err != nil {
		return "", err
	}
	defer c.Close()
	root := hostPath(t, t.spec.Settings.ReleaseRoot)
	info := r.lockInfo()
	if err := r.lock(ctx, c, t, root, info); err != nil {
		return "", err
	}
	rec := deploy.AuditRecord{Time: time.Now().UTC(), Host: t.host.Name, Who: info.Who, Commit: r.commit}
	defer func() {
		// The lock goes even if the rollback failed or ctx ended.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sshTimeout)
		defer cancel()
		rec.Result = deploy.RolledBack
		if err != nil {
			rec.Result, rec.Error = deploy.Failed, err.Error()
		}
		line, _ := json.Marshal(rec)
		script := fmt.Sprintf("printf '%%s\\n' %s >> %s\nif grep -qF %s %s/info 2>/dev/null; then rm -rf -- %s; fi\n",
			ssh.Quote(string(line)), ssh.Quote(root+"/audit.log"), ssh.Quote(info.Token), ssh.Quote(root+"/"+rollbackLockDir), ssh.Quote(root+"/"+rollbackLockDir))
		if _, uerr := c.OutputInput(uctx, "sh -s", strings.NewReader(script)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("release the deploy lock: %w; once sure nothing runs there, rerun with -force-unlock", uerr))
		}
	}()
	h := release.Host{Client: c, Root: root}
	st, err := h.State(ctx)
	if err != nil {
		return "", err
	}
	to, err := r.pick(st)
	if err != nil {
		return "", err
	}
	rec.Release, rec.Previous = to.Hash, st.Current
	if to.Hash == st.Current {
		return "already on release " + to.Hash + "; nothing to do", nil
	}
	if _, err := c.OutputInput(ctx, "sh -s", strings.NewReader(installFilesScript(t, root, to))); err != nil {
		return "", fmt.Errorf("reinstall the units and config of release %s: %w", to.Hash, err)
	}
	if _, err := h.Switch(ctx, to.Hash); err != nil {
		return "", err
	}
	if err := restartUnits(ctx, c, systemctlOf(t.spec), to.Units); err != nil {
		return "", fmt.Errorf("%w; current points to %s now: fix the unit and run \"airctl rollback\" or \"airctl deploy\" again", err, to.Hash)
	}
	if err := r.waitHealthy(ctx, c, t.spec.Settings.WebserverPort); err != nil {
		return "", fmt.Errorf("release %s is current and restarted but %w", to.Hash, err)
	}
	return fmt.Sprintf("rolled back %s -> %s, healthy", orNoRelease(st.Current), to.Hash), nil
}

func (r *rollbackRun) lockInfo() deploy.LockInfo {
	machine, _ := os.Hostname()
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	who := "airctl rollback"
	if u := r.m.env.Getenv("USER"); u != "" {
		who = u + "@" + machine
	}
	return deploy.LockInfo{Who: who, Machine: machine, PID: os.Getpid(), Since: time.Now().UTC(), Commit: r.commit, Token: hex.EncodeToString(token)}
}

// lock takes the deploy lock as the deployer does: mkdir is atomic.
func (r *rollbackRun) lock(ctx context.Context, c *ssh.Client, t sshTarget, root string, info deploy.LockInfo) error {
	q := ssh.Quote
	infoJSON, _ := json.Marshal(info)
	var b strings.Builder
	fmt.Fprintf(&b, "set -eu\ncd %s || { echo 'no release root: nothing was deployed here' >&2; exit 3; }\n", q(root))
	if r.force {
		fmt.Fprintf(&b, "rm -rf -- %s\n", rollbackLockDir)
	}
	fmt.Fprintf(&b, "if ! mkdir %[1]s 2>/dev/null; then echo locked; tr -d '\\n' < %[1]s/info 2>/dev/null || true; echo; exit 0; fi\n", rollbackLockDir)
	fmt.Fprintf(&b, "printf '%%s\\n' %s > %s/info\necho acquired\n", q(string(infoJSON)), rollbackLockDir)
	out, err := c.OutputInput(ctx, "sh -s", strings.NewReader(b.String()))
	if err != nil {
		return fmt.Errorf("take the deploy lock in %s: %w", root, err)
	}
	status, rest, _ := strings.Cut(string(out), "\n")
	if status == "acquired" {
		return nil
	}
	var holder deploy.LockInfo
	_ = json.Unmarshal([]byte(strings.TrimSpace(rest)), &holder)
	return &deploy.LockedError{Host: t.host.Name, Holder: holder}
}

// pick finds the release to go back to.
func (r *rollbackRun) pick(st release.State) (*release.Manifest, error) {
	if r.target != "" {
		m, ok := st.Releases[r.target]
		if !ok {
			return nil, fmt.Errorf("release %s is not on this host (\"airctl releases\" lists what is)", r.target)
		}
		return m, nil
	}
	cur := st.CurrentManifest()
	if cur == nil {
		return nil, errors.New("no current release: nothing to roll back from; deploy first")
	}
	for _, n := range sortedReleases(st) {
		if m := st.Releases[n]; n != st.Current && m.Created.Before(cur.Created) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no release older than the current one (%s) on this host: name one, \"airctl releases\" lists them", st.Current)
}

// installFilesScript copies the release's units and config to their
// system paths with their recorded owners and modes, each through a temp
// name and a rename, like the deployer's install step.
func installFilesScript(t sshTarget, root string, m *release.Manifest) string {
	q, sudo := ssh.Quote, sudoOf(t.spec)
	var b strings.Builder
	b.WriteString("set -eu\n")
	rel := path.Join(root, "releases", m.Hash)
	for _, e := range m.Files {
		if e.Install == nil {
			continue
		}
		dst := hostPath(t, e.Install.Path)
		fmt.Fprintf(&b, "[ -d %[1]s ] || %[2]s install -d -m 0755 %[1]s\n", q(path.Dir(dst)), sudo)
		fmt.Fprintf(&b, "%s install -m %04o -o %s -g %s %s %s\n", sudo, uint32(e.Install.Mode.Perm()), q(e.Install.Owner), q(e.Install.Group),
			q(path.Join(rel, e.Path)), q(dst+".airctl-new"))
		fmt.Fprintf(&b, "%s mv -f -- %s %s\n", sudo, q(dst+".airctl-new"), q(dst))
	}
	return b.String()
}

// restartUnits reloads systemd, enables the release's units and restarts
// its services in the deployer's order: scheduler, workers, webserver
// (its socket keeps the port open), flower.
func restartUnits(ctx context.Context, c *ssh.Client, systemctl string, units []string) error {
	run := func(args ...string) error {
		if _, err := c.Output(ctx, systemctl+" "+ssh.Join(args...)); err != nil {
			return fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run("daemon-reload"); err != nil {
		return err
	}
	if err := run(append([]string{"enable"}, units...)...); err != nil {
		return err
	}
	rank := func(u string) int {
		for i, p := range []string{"aird-scheduler", "aird-worker@", "aird-webserver", "aird-flower"} {
			if strings.HasPrefix(u, p) {
				return i
			}
		}
		return 4
	}
	var services []string
	for _, u := range units {
		if strings.HasSuffix(u, ".service") {
			services = append(services, u)
		}
	}
	slices.SortStableFunc(services, func(a, b string) int { return rank(a) - rank(b) })
	for _, u := range services {
		if err := run("restart", u); err != nil {
			return err
		}
	}
	return nil
}

// waitHealthy polls /health through the tunnel until it answers 200.
func (r *rollbackRun) waitHealthy(ctx context.Context, c *ssh.Client, port int) error {
	ctx, cancel := context.WithTimeout(ctx, r.healthTimeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		verdict := r.m.health(ctx, c, port)
		if verdict == "200 OK" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("/health did not answer 200 within %s (last: %s): check \"airctl logs webserver\"", r.healthTimeout, verdict)
		case <-tick.C:
		}
	}
}
