package command

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/internal/testenv"
)

// The end-to-end deploy: `airctl apply` of examples/gcp against gcpfake
// (whose VM and Cloud SQL IPs are 127.0.0.1) provisions the stack and
// deploys the real aird, built here, over SSH to a local sshd as a
// non-root user. systemd is stood in for by supervisorShim, which really
// runs each unit's ExecStart as a background process; Postgres and Redis
// are real servers. The services must then answer /health.

// e2eDeployBlock is what a user adds to examples/gcp to deploy with it:
// hosts and database host come from the provisioned VM and Cloud SQL
// instance. What differs from production is the test host's reach (port,
// user, key, dest_dir, shims) and the Postgres stand-in's port and user.
const e2eDeployBlock = `
variable "redis_password" {
  type      = string
  sensitive = true
}

variable "secret_key" {
  type      = string
  sensitive = true
}

deploy "airflow" {
  hosts       = [google_compute_instance.vm.network_interface[0].access_config[0].nat_ip]
  port        = %d
  user        = %q
  known_hosts = file("known_hosts")
  ssh_key     = %q
  dags        = "./dags"
  database = {
    host     = google_sql_database_instance.db.public_ip_address
    port     = %d
    name     = "postgres"
    user     = %q
    password = random_password.db.result
    sslmode  = "disable"
  }
  base_url  = "https://${var.domain}"
  systemctl = %q
  sudo      = %q
  dest_dir  = %q

  service "webserver" {
    port = %d
  }
  service "flower" {
    port = %d
  }
  service "worker" {
    instances   = 1
    concurrency = 2
  }
  secrets {
    redis_password = var.redis_password
    secret_key     = var.secret_key
  }
}
`

// supervisorShim stands in for systemctl on a host without systemd as
// PID 1: restart and start run the unit's ExecStart (instance %i filled
// in, Environment= and EnvironmentFile= loaded) as a detached background
// process with a pid file, stop sends SIGTERM and waits as systemd does.
// The units name the real paths (/opt/airctl, /etc/aird); the shim maps
// them below dest, and overrides.env points aird's own paths and its
// Redis there too. Socket units and the distribution's Redis are not run:
// the webserver binds its port itself here (socket activation is measured
// by deploy's BenchmarkWebserverRestart), and Redis is a test server.
func supervisorShim(dest string) string {
	return fmt.Sprintf(`#!/bin/sh
set -eu
dest=%[1]s
run=$dest/run
mkdir -p "$run"
printf '%%s\n' "$*" >> "$dest/systemctl.log"

alive() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

start() {
  u=$1 inst= f=$dest/etc/systemd/system/$1
  case $u in *.socket|redis-server.service) return 0 ;; esac
  if [ ! -f "$f" ]; then
    case $u in *@*.service) inst=${u#*@}; inst=${inst%%.service}; f=$dest/etc/systemd/system/${u%%%%@*}@.service ;; esac
  fi
  [ -f "$f" ] || { echo "systemctl shim: unit $u not found" >&2; exit 5; }
  cmd=
  for w in $(sed -n 's/^ExecStart=//p' "$f" | sed "s/%%i/$inst/g"); do
    case $w in /*) w=$dest$w ;; esac
    cmd="$cmd $w"
  done
  (
    set -a
    sed -n 's/^Environment=//p' "$f" | sed "s/%%i/$inst/g; s/%%H/$(hostname)/g; s|=/|=$dest/|" > "$run/$u.env"
    . "$run/$u.env"
    . "$dest$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$f")"
    . "$dest/shims/overrides.env"
    set +a
    cd "$dest$(sed -n 's/^WorkingDirectory=//p' "$f")"
    setsid $cmd </dev/null >>"$run/$u.log" 2>&1 &
    echo $! > "$run/$u.pid"
  )
}

stop() {
  alive "$1" || { rm -f "$run/$1.pid"; return 0; }
  pid=$(cat "$run/$1.pid")
  kill -TERM "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i+1))
    if [ $i -gt 300 ]; then kill -KILL "$pid"; break; fi
    sleep 0.1
  done
  rm -f "$run/$1.pid"
}

verb=$1; shift
case $verb in
daemon-reload|enable) ;;
disable) [ "$1" = --now ] && shift; for u; do stop "$u"; done ;;
start) for u; do alive "$u" || start "$u"; done ;;
restart) for u; do stop "$u"; start "$u"; done ;;
stop) for u; do stop "$u"; done ;;
is-active) for u; do if alive "$u"; then echo active; else echo inactive; fi; done ;;
*) echo "systemctl shim: $verb not supported" >&2; exit 1 ;;
esac
`, ssh.Quote(dest))
}

// buildAird builds cmd/aird for this machine, which is the deploy target.
func buildAird(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build aird for the deploy: %v", err)
	}
	out := filepath.Join(t.TempDir(), "aird")
	cmd := exec.Command(goBin, "build", "-o", out, "../../cmd/aird")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/aird: %v\n%s", err, b)
	}
	return out
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// manualClock is gcpfake's clock, advanced by the test only.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestGCPExampleApplyDeploysRealAird(t *testing.T) {
	t.Parallel()
	start := time.Now()
	aird := buildAird(t)
	t.Logf("aird built in %s", time.Since(start).Round(time.Millisecond))
	pg := testenv.Postgres(t)
	rd := testenv.Redis(t)
	h := newDeployHost(t)
	webPort, flowerPort := freeTCPPort(t), freeTCPPort(t)
	writeOwned(t, filepath.Join(h.dest, "shims", "systemctl"), supervisorShim(h.dest), 0o755)
	writeOwned(t, filepath.Join(h.dest, "shims", "overrides.env"), strings.Join([]string{
		"AIRD_HOME=" + filepath.Join(h.dest, "var", "lib", "aird"),
		"AIRD_CORE_DAGS_FOLDER=" + filepath.Join(h.root, "current", "dags"),
		"AIRD_LOGGING_BASE_LOG_FOLDER=" + filepath.Join(h.dest, "var", "log", "aird"),
		"AIRD_REDIS_ADDRESS=" + rd.Addr,
	}, "\n")+"\n", 0o644)
	chownTree(t, h.srv.User, h.dest)
	t.Cleanup(func() { stopServices(t, h) })

	// The managed certificate's creation stays pending until the clock
	// moves; everything else is instant. The deploy must not wait for it.
	clk := &manualClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	lat := gcpfake.InstantLatency()
	lat.Methods = map[string]time.Duration{"compute.sslCertificates.insert": time.Hour}
	// WaitMax: a blocking operations.wait does not see the clock move, so
	// keep it short.
	e := newGCPE2E(t, gcpfake.Options{Clock: clk.Now, Latency: lat, WaitMax: time.Second}, "")
	_, sshPort, _ := net.SplitHostPort(h.srv.Addr)
	p, _ := strconv.Atoi(sshPort)
	block := fmt.Sprintf(e2eDeployBlock, p, h.srv.User, h.srv.ClientKeyPath, pg.Port, pg.User,
		filepath.Join(h.dest, "shims", "systemctl"), filepath.Join(h.dest, "shims", "sudo"), h.dest, webPort, flowerPort)
	writeOwned(t, filepath.Join(e.dir, "deploy.tf"), block, 0o644)
	writeOwned(t, filepath.Join(e.dir, "known_hosts"), knownHostsOf(t, h), 0o644)
	writeOwned(t, filepath.Join(e.dir, "dags", "hello.hcl"), `dag "hello" {
  task "say" {
    command = "echo hello"
  }
}
`, 0o644)
	e.environ = append(e.environ, "TF_VAR_redis_password="+rd.Password, "TF_VAR_secret_key=e2e-secret-key-value")

	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"-chdir=" + e.dir, "apply", "-auto-approve", "-binary", aird}, Env{
			Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
			Environ: e.environ, Dir: e.dir, Providers: e.providers(), Version: "test",
		})
	}()
	waitOutput(t, stdout, stderr, done, "Deploy complete!")
	if strings.Contains(stdout.String(), "google_compute_managed_ssl_certificate.web: Creation complete") {
		t.Fatalf("the deploy waited for the certificate:\n%s", stdout)
	}
	clk.advance(2 * time.Hour)
	if code := <-done; code != exitOK {
		t.Fatalf("apply: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", code, stdout, stderr)
	}
	out := stdout.String()
	t.Logf("airctl apply:\n%s", out)
	if strings.Index(out, "Deploy complete!") > strings.Index(out, "google_compute_managed_ssl_certificate.web: Creation complete") {
		t.Errorf("deploy finished after the certificate:\n%s", out)
	}
	if !strings.Contains(out, "1 deployed") {
		t.Errorf("want 1 deployed:\n%s", out)
	}

	// The deployed webserver answers /health itself, healthy.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(webPort) + "/health")
	if err != nil {
		t.Fatalf("GET /health: %v", err)
	}
	defer resp.Body.Close()
	var health struct {
		Metadatabase struct{ Status string } `json:"metadatabase"`
		Scheduler    struct{ Status string } `json:"scheduler"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %s, %v", resp.Status, err)
	}
	if health.Metadatabase.Status != "healthy" || health.Scheduler.Status != "healthy" {
		t.Errorf("/health = %+v; want both healthy", health)
	}
	// Every service runs the deployed binary, from the current release.
	current, err := filepath.EvalSymlinks(filepath.Join(h.root, "current", "bin", "aird"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"aird-scheduler.service", "aird-worker@1.service", "aird-webserver.service", "aird-flower.service"} {
		pid, err := os.ReadFile(filepath.Join(h.dest, "run", u+".pid"))
		if err != nil {
			t.Errorf("%s was not started: %v", u, err)
			continue
		}
		exe, err := os.Readlink("/proc/" + strings.TrimSpace(string(pid)) + "/exe")
		if err != nil || exe != current {
			t.Errorf("%s runs %q (%v); want the deployed %s", u, exe, err, current)
		}
	}
}

// waitOutput waits for sub on stdout, failing early if the command ends.
func waitOutput(t *testing.T, stdout, stderr *syncBuffer, done <-chan int, sub string) {
	t.Helper()
	timeout := time.After(5 * time.Minute)
	for {
		stdout.mu.Lock()
		found, changed := strings.Contains(stdout.b.String(), sub), stdout.changed
		stdout.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case code := <-done:
			t.Fatalf("the command ended (exit %d) before printing %q\n--- stdout:\n%s\n--- stderr:\n%s", code, sub, stdout, stderr)
		case <-timeout:
			t.Fatalf("no %q after 5 minutes\n--- stdout:\n%s\n--- stderr:\n%s", sub, stdout, stderr)
		}
	}
}

// stopServices stops what the supervisor shim started, as a shutdown
// would.
func stopServices(t *testing.T, h *deployHost) {
	pids, _ := filepath.Glob(filepath.Join(h.dest, "run", "*.pid"))
	for _, p := range pids {
		unit := strings.TrimSuffix(filepath.Base(p), ".pid")
		cmd := exec.Command(filepath.Join(h.dest, "shims", "systemctl"), "stop", unit)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stop %s: %v\n%s", unit, err, out)
		}
	}
}
