package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// deploySpecs loads the configuration, resolves variables, reads the state
// and evaluates the deploy blocks against it, in name order. ok false means
// it failed and printed why.
func (m *meta) deploySpecs(ctx context.Context, vf *varFlags) ([]provision.DeploySpec, bool) {
	cfg := m.loadConfig()
	if cfg == nil {
		return nil, false
	}
	vars, ok := m.variables(ctx, cfg, vf)
	if !ok {
		return nil, false
	}
	b, err := m.backend(cfg)
	if err != nil {
		m.showError(err)
		return nil, false
	}
	defer b.close()
	st, err := b.Read(ctx)
	if err != nil {
		m.showError(fmt.Errorf("read the state: %w", err))
		return nil, false
	}
	return m.evalDeploys(cfg, st, vars)
}

// evalDeploys evaluates the deploy blocks against st; no block is an
// error here (commands that deploy need one).
func (m *meta) evalDeploys(cfg *config.Config, st *state.State, vars map[string]cty.Value) ([]provision.DeploySpec, bool) {
	if len(cfg.Deploys) == 0 {
		m.showError(errors.New(`the configuration has no deploy block: add deploy "NAME" { hosts = [...] user = "..." } (see DESIGN.md) to say where aird runs`))
		return nil, false
	}
	specs, diags := provision.EvalDeploy(cfg, st, vars)
	m.diagnostics(diags)
	if diags.HasErrors() {
		return nil, false
	}
	out := make([]provision.DeploySpec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, true
}

// sshTarget is one host of a deploy block, ready to dial.
type sshTarget struct {
	spec provision.DeploySpec
	host deploy.Host
}

// hostsOf turns a spec into deploy hosts. The known_hosts content of the
// block goes to a private temp file that cleanup removes; recording keys
// (trust on first use) needs a real file, known_hosts_file, since a temp
// file would forget them.
func (m *meta) hostsOf(spec provision.DeploySpec, tofu bool) (hosts []deploy.Host, cleanup func(), err error) {
	cleanup = func() {}
	tofu = tofu || spec.TrustOnFirstUse
	known := spec.KnownHostsFile
	if known == "" && spec.KnownHostsGiven {
		if tofu {
			return nil, cleanup, fmt.Errorf("deploy %q: trust on first use records host keys in a file, but known_hosts gives their content: set known_hosts_file = \"known_hosts\" instead, or add the key to the known_hosts content", spec.Name)
		}
		dir, err := os.MkdirTemp("", "airctl-known-hosts-")
		if err != nil {
			return nil, cleanup, fmt.Errorf("deploy %q: write known_hosts: %w", spec.Name, err)
		}
		cleanup = func() { _ = os.RemoveAll(dir) }
		known = filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(known, []byte(spec.KnownHosts), 0o600); err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("deploy %q: write known_hosts: %w", spec.Name, err)
		}
	}
	auth := ssh.Auth{KeyFile: spec.SSHKey}
	if spec.SSHKeyEnv != "" {
		// Read through Env, not the process environment, so CI secrets and
		// tests are handled alike.
		pem := m.env.Getenv(spec.SSHKeyEnv)
		if pem == "" {
			cleanup()
			return nil, func() {}, fmt.Errorf("deploy %q: SSH key variable $%s is empty or unset: set it to the private key's text (e.g. from a CI secret)", spec.Name, spec.SSHKeyEnv)
		}
		signer, err := gossh.ParsePrivateKey([]byte(pem))
		if err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("deploy %q: SSH key in $%s: %w (want an unencrypted OpenSSH or PEM private key)", spec.Name, spec.SSHKeyEnv, err)
		}
		auth.Signers = append(auth.Signers, signer)
	}
	// Warnings from the transport (a host key recorded on first use) are
	// news for the user; progress lines cover everything else.
	logger := m.logger(slog.LevelWarn)
	for _, h := range spec.Hosts {
		addr := h
		if _, _, err := net.SplitHostPort(h); err != nil {
			addr = net.JoinHostPort(h, strconv.Itoa(spec.Port))
		}
		hosts = append(hosts, deploy.Host{
			Name: addr,
			SSH: ssh.Config{
				Addr: addr, User: spec.User, Auth: auth, KnownHostsFile: known, TrustOnFirstUse: tofu, Logger: logger,
			},
			DestDir: spec.DestDir,
		})
	}
	return hosts, cleanup, nil
}

// targets lists every host of specs, or only those named (by address or
// as written in hosts).
func (m *meta) targets(specs []provision.DeploySpec, tofu bool, only string) (ts []sshTarget, cleanup func(), err error) {
	var cleanups []func()
	cleanup = func() {
		for _, c := range cleanups {
			c()
		}
	}
	for _, s := range specs {
		hosts, c, err := m.hostsOf(s, tofu)
		cleanups = append(cleanups, c)
		if err != nil {
			return nil, cleanup, err
		}
		for i, h := range hosts {
			if only == "" || only == h.Name || only == s.Hosts[i] {
				ts = append(ts, sshTarget{spec: s, host: h})
			}
		}
	}
	if len(ts) == 0 && only != "" {
		return nil, cleanup, fmt.Errorf("no host %q in the deploy blocks: use one of the addresses \"airctl releases\" lists", only)
	}
	return ts, cleanup, nil
}

// systemctlOf is the systemctl command prefix a spec asks for, with the
// deployer's default.
func systemctlOf(s provision.DeploySpec) string {
	if s.Systemctl != "" {
		return s.Systemctl
	}
	return "sudo -n systemctl"
}

// sudoOf is the sudo command prefix a spec asks for, with the deployer's
// default.
func sudoOf(s provision.DeploySpec) string {
	if s.Sudo != "" {
		return s.Sudo
	}
	return "sudo -n"
}

// hostPath maps a path on the host below dest_dir.
func hostPath(t sshTarget, p string) string {
	if t.host.DestDir == "" {
		return p
	}
	return filepath.Join(t.host.DestDir, p)
}

// renderFiles renders a spec's files with the project's templates/
// directory (if any) overriding the embedded templates.
func (m *meta) renderFiles(s render.Settings) ([]render.File, error) {
	var files []render.File
	var err error
	if dir := m.path("templates"); isDir(dir) {
		files, err = render.Render(s, os.DirFS(dir))
	} else {
		files, err = render.Render(s, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("render the units and config: %w", err)
	}
	return files, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// airdBinary finds the linux/amd64 aird to ship: -binary, else what `make
// build` leaves next to airctl (bin/linux-amd64/aird beside bin/airctl),
// else bin/linux-amd64/aird in the project directory.
func (m *meta) airdBinary(flag string) (string, error) {
	if flag != "" {
		return m.path(flag), nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		tried = append(tried, filepath.Join(filepath.Dir(exe), "linux-amd64", "aird"))
	}
	tried = append(tried, m.path(filepath.Join("bin", "linux-amd64", "aird")))
	for _, p := range tried {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no linux/amd64 aird binary found (looked at %s): build it with `make build`, or pass -binary PATH", strings.Join(tried, ", "))
}

// commitOf names the revision being deployed, for the lock and the audit
// log: $AIRCTL_COMMIT, $GITHUB_SHA (GitHub Actions), $COMMIT_SHA (Cloud
// Build), else the project's git HEAD, else nothing.
func (m *meta) commitOf(ctx context.Context) string {
	for _, name := range []string{"AIRCTL_COMMIT", "GITHUB_SHA", "COMMIT_SHA"} {
		if v := m.env.Getenv(name); v != "" {
			return v
		}
	}
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD")
	cmd.Dir = m.dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// logger writes records at level and above to stderr.
func (m *meta) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(m.stderr, &slog.HandlerOptions{Level: level}))
}
