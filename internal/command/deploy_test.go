package command

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/provision/provider/testprovider"
)

// deployHost is a test deploy target: a real sshd logged into as a
// non-root user, whose "/" is dest (the block's dest_dir), with systemctl
// and sudo shims, and a stand-in webserver answering /health on the
// loopback (reached through the SSH tunnel like the real one).
type deployHost struct {
	srv    *testenv.SSHServer
	dest   string
	root   string // release root, dest included
	sysLog string
	// journalLog records the journalctl shim's calls (see journalctlShim).
	journalLog string
	webPort    int
}

func newDeployHost(t *testing.T) *deployHost {
	t.Helper()
	srv := testenv.SSHD(t)
	dest, err := os.MkdirTemp("", "airctl-command-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dest) })
	h := &deployHost{srv: srv, dest: dest, root: filepath.Join(dest, "opt", "airctl"), sysLog: filepath.Join(dest, "systemctl.log"), journalLog: filepath.Join(dest, "journalctl.log")}
	writeOwned(t, filepath.Join(dest, "etc", "redis", "redis.conf"), "port 6379\n", 0o644)
	writeOwned(t, filepath.Join(dest, "shims", "systemctl"), systemctlShim(ssh.Quote(h.sysLog)), 0o755)
	writeOwned(t, filepath.Join(dest, "shims", "sudo"), sudoShim(), 0o755)
	writeOwned(t, filepath.Join(dest, "shims", "journalctl"), journalctlShim(ssh.Quote(h.journalLog)), 0o755)
	chownTree(t, srv.User, dest)

	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"metadatabase": map[string]string{"status": "healthy"},
			"scheduler":    map[string]string{"status": "healthy", "latest_scheduler_heartbeat": time.Now().UTC().Format(time.RFC3339Nano)},
		})
	}))
	t.Cleanup(web.Close)
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	h.webPort, _ = strconv.Atoi(port)
	return h
}

// systemctlShim records each call; is-active answers "active" per unit.
func systemctlShim(log string) string {
	return fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$*" >> %s
if [ "$1" = is-active ]; then shift; for u in "$@"; do echo active; done; fi
exit 0
`, log)
}

// sudoShim runs the command as the login user; account and package
// management are skipped, install's -o/-g dropped (that needs root), and
// journalctl is the shim next to it.
func sudoShim() string {
	return `#!/bin/sh
[ "$1" = -n ] && shift
case "$1" in
useradd|groupadd|usermod|apt-get|chown) exit 0 ;;
journalctl) shift; exec "$(dirname "$0")/journalctl" "$@" ;;
install)
  shift; n=$#
  while [ "$n" -gt 0 ]; do
    a=$1; shift; n=$((n-1))
    case "$a" in
    -o|-g) shift; n=$((n-1)) ;;
    *) set -- "$@" "$a" ;;
    esac
  done
  exec install "$@" ;;
esac
exec "$@"
`
}

func writeOwned(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// chownTree gives dir to login when tests run as root (sshd's login user
// is then another account, which must own the host's files).
func chownTree(t *testing.T, login, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup(login)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

const deployProject = `
variable "app_secret" {
  type      = string
  sensitive = true
}

resource "test_thing" "vm" {
  name = "127.0.0.1"
}

deploy "airflow" {
  hosts       = [test_thing.vm.name]
  port        = %d
  user        = %q
  known_hosts = file("known_hosts")
  ssh_key     = %q
  dags        = "./dags"
  database    = { host = "10.1.2.3", password = var.app_secret }
  systemctl   = %q
  sudo        = %q
  dest_dir    = %q

  service "webserver" {
    port = %d
  }
  secrets {
    redis_password = var.app_secret
    secret_key     = var.app_secret
  }
}
`

const appSecret = "app-s3cret-value"

// newDeployCLI is a project whose deploy block targets h (its host coming
// from the provisioned test_thing.vm), with a stub aird in
// bin/linux-amd64/aird, a DAG and h's known_hosts.
func newDeployCLI(t *testing.T, h *deployHost, knownHosts string) *cli {
	t.Helper()
	c := newCLI(t)
	c.environ = []string{"TF_VAR_app_secret=" + appSecret}
	_, port, _ := net.SplitHostPort(h.srv.Addr)
	p, _ := strconv.Atoi(port)
	c.write("main.tf", fmt.Sprintf(deployProject, p, h.srv.User, h.srv.ClientKeyPath,
		filepath.Join(h.dest, "shims", "systemctl"), filepath.Join(h.dest, "shims", "sudo"), h.dest, h.webPort))
	c.write("known_hosts", knownHosts)
	writeOwned(t, filepath.Join(c.dir, "bin", "linux-amd64", "aird"), "#!/bin/sh\n# stub aird\nexit 0\n", 0o755)
	writeOwned(t, filepath.Join(c.dir, "dags", "example.hcl"), `dag "example" { schedule = "@daily" }`+"\n", 0o644)
	return c
}

func knownHostsOf(t *testing.T, h *deployHost) string {
	t.Helper()
	b, err := os.ReadFile(h.srv.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyProvisionsThenDeploys(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))

	r := c.must(0, "apply", "-auto-approve")
	contains(t, r, "stdout", "test_thing.vm: Creation complete", "Apply complete!", `Deploying "airflow" to 1 host(s)`,
		h.srv.Addr+": upload done", h.srv.Addr+": health done", "Deploy complete!", "1 deployed")
	if strings.Contains(r.stdout+r.stderr, appSecret) {
		t.Error("apply printed a secret")
	}
	target, err := os.Readlink(filepath.Join(h.root, "current"))
	if err != nil {
		t.Fatalf("no current release after apply: %v\n%s", err, r)
	}
	rel := strings.TrimPrefix(target, "releases/")

	// Nothing changed: a no-op, reported per host, in JSON here.
	r = c.must(0, "deploy", "-json")
	contains(t, r, "stdout", `"type":"deploy_progress"`, `"type":"deploy_result"`, `"outcome":"unchanged"`, `"release":"`+rel+`"`)

	r = c.must(0, "releases")
	contains(t, r, "stdout", h.srv.Addr+":", "* "+rel, "(current)")

	r = c.must(0, "status")
	contains(t, r, "stdout", "release: "+rel, "aird-scheduler.service", "active", "health: 200 OK")

	r = c.must(0, "ssh", "--", "readlink "+ssh.Quote(filepath.Join(h.root, "current")))
	contains(t, r, "stdout", target)

	// A new binary makes a new release; rollback goes back to the first.
	writeOwned(t, filepath.Join(c.dir, "bin", "linux-amd64", "aird"), "#!/bin/sh\n# stub aird 2\nexit 0\n", 0o755)
	r = c.must(0, "deploy")
	contains(t, r, "stdout", "1 deployed")
	if now, _ := os.Readlink(filepath.Join(h.root, "current")); now == target {
		t.Fatalf("the second deploy did not switch current:\n%s", r)
	}
	r = c.must(0, "rollback")
	contains(t, r, "stdout", "-> "+rel+", healthy")
	if now, _ := os.Readlink(filepath.Join(h.root, "current")); now != target {
		t.Fatalf("current = %s after rollback; want %s\n%s", now, target, r)
	}
	r = c.must(0, "releases")
	contains(t, r, "stdout", "* "+rel)
	if n := strings.Count(r.stdout, "\n  "); n != 2 {
		t.Errorf("want 2 releases listed:\n%s", r.stdout)
	}

	out := filepath.Join(t.TempDir(), "rendered")
	r = c.must(0, "render", "-out", out)
	for _, f := range []string{"etc/systemd/system/aird-scheduler.service", "etc/systemd/system/aird-webserver.socket", "etc/aird/aird.hcl"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatalf("render: %v\n%s", err, r)
		}
		if strings.Contains(string(b), appSecret) {
			t.Errorf("%s holds a secret", f)
		}
	}
	env, err := os.ReadFile(filepath.Join(out, "etc/aird/aird.env"))
	if err != nil || !strings.Contains(string(env), appSecret) {
		t.Errorf("aird.env lacks the secrets: %v", err)
	}
}

func TestDeployRefusesUnknownHostKey(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, "")
	c.must(0, "apply", "-auto-approve", "-deploy=false")
	r := c.must(1, "deploy")
	contains(t, r, "stderr", "is not in", gossh.FingerprintSHA256(h.srv.HostPublicKey), "--trust-on-first-use")
	if _, err := os.Lstat(filepath.Join(h.root, "current")); !os.IsNotExist(err) {
		t.Errorf("something was deployed to an unverified host: %v", err)
	}
}

func TestDeployBlockErrorsHaveFileLineColumn(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.write("main.tf", `deploy "airflow" {
  hosts  = ["127.0.0.1"]
  user   = "deploy"
  colour = "blue"
  service "cron" {}
}
`)
	r := c.must(1, "deploy")
	contains(t, r, "stderr", "on main.tf:4:3", "Unsupported argument", "on main.tf:5:11", "Unsupported service")
}

func TestDeployCommandsHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, name := range []string{"render", "deploy", "rollback", "releases", "status", "logs", "ssh"} {
		r := c.must(0, name, "-help")
		contains(t, r, "stdout", "Usage: airctl [global options] "+name)
	}
	r := c.must(0, "apply", "-help")
	contains(t, r, "stdout", "-deploy=false")
	r = c.must(0, "-help")
	contains(t, r, "stdout", "rollback", "releases")
}

func TestDeployTrustOnFirstUseRecordsKey(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, "")
	// Content cannot record a key: the block must name a file for that.
	c.must(0, "apply", "-auto-approve", "-deploy=false")
	r := c.must(1, "deploy", "-trust-on-first-use")
	contains(t, r, "stderr", "known_hosts_file")

	c.write("main.tf", strings.Replace(c.read("main.tf"), `known_hosts = file("known_hosts")`, `known_hosts_file = "known_hosts"`, 1))
	r = c.must(0, "deploy", "-trust-on-first-use")
	contains(t, r, "stdout", "1 deployed")
	contains(t, r, "stderr", "trust on first use", gossh.FingerprintSHA256(h.srv.HostPublicKey))
	if !strings.Contains(c.read("known_hosts"), strings.TrimSpace(string(gossh.MarshalAuthorizedKey(h.srv.HostPublicKey)))) {
		t.Errorf("known_hosts lacks the host key:\n%s", c.read("known_hosts"))
	}
	// Recorded: later runs verify without the flag.
	c.must(0, "ssh", "--", "true")
}

func TestSSHReturnsRemoteExitCode(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))
	c.must(0, "apply", "-auto-approve", "-deploy=false")
	r := c.must(3, "ssh", "127.0.0.1", "--", "echo out; echo err >&2; exit 3")
	contains(t, r, "stdout", "out")
	contains(t, r, "stderr", "err")
	r = c.must(1, "ssh", "10.9.9.9", "--", "true")
	contains(t, r, "stderr", `no host "10.9.9.9"`)
}

func TestSplitCursor(t *testing.T) {
	text, cursor := splitCursor("line 1\nline 2\n-- cursor: s=abc;i=1\n")
	if text != "line 1\nline 2\n" || cursor != "s=abc;i=1" {
		t.Errorf("got %q, %q", text, cursor)
	}
	if text, cursor := splitCursor("-- No entries --\n"); cursor != "" || text != "-- No entries --\n" {
		t.Errorf("got %q, %q", text, cursor)
	}
}

func TestDeployAndRollbackRespectTheHostLock(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))
	c.must(0, "apply", "-auto-approve")
	// Another deploy, from elsewhere, holds the host.
	writeOwned(t, filepath.Join(h.root, ".deploy.lock", "info"), `{"who":"alice@laptop","machine":"laptop","pid":42,"token":"t"}`+"\n", 0o644)
	chownTree(t, h.srv.User, filepath.Join(h.root, ".deploy.lock"))

	r := c.must(1, "deploy")
	contains(t, r, "stderr", "alice@laptop", "force-unlock")
	r = c.must(1, "rollback")
	contains(t, r, "stderr", "alice@laptop", "force-unlock")

	r = c.must(0, "deploy", "-force-unlock")
	contains(t, r, "stdout", "forcibly removed the lock of alice@laptop", "1 unchanged")
	if _, err := os.Stat(filepath.Join(h.root, ".deploy.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}

// TestApplyDeploysAsSoonAsItsResourcesExist: the deploy block needs only
// test_thing.vm, so the rollout runs while an unrelated slow resource (a
// certificate, held at a gate) is still being created, and is complete
// before that resource is.
func TestApplyDeploysAsSoonAsItsResourcesExist(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))
	c.write("cert.tf", `resource "test_thing" "cert" {
  name = "cert"
}
`)
	gate := c.tp.Block(testprovider.OpCreate, "cert")
	defer gate.Release()
	stdout := newSyncBuffer()
	done := make(chan result, 1)
	go func() { done <- c.runWith(context.Background(), nil, stdout, "apply", "-auto-approve") }()
	waitArrival(t, gate)
	stdout.waitFor(t, "Deploy complete!")
	gate.Release()
	r := <-done
	if r.code != exitOK {
		t.Fatalf("apply: %s", r)
	}
	order := []string{"test_thing.vm: Creation complete", `Deploying "airflow" to 1 host(s)`, "Deploy complete!", "test_thing.cert: Creation complete", "Apply complete!"}
	last := -1
	for _, s := range order {
		i := strings.Index(r.stdout, s)
		if i < last {
			t.Fatalf("want %q after %q in the output:\n%s", s, order, r.stdout)
		}
		last = i
	}
	if n := strings.Count(r.stdout, "Deploying "); n != 1 {
		t.Errorf("deployed %d times; want once:\n%s", n, r.stdout)
	}
	if _, err := os.Readlink(filepath.Join(h.root, "current")); err != nil {
		t.Errorf("no current release: %v", err)
	}
}
