package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/internal/sshtest"
	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/internal/testenv"
)

// testHost is a deploy target: a real sshd, logged into as a non-root
// user, whose "/" is a temp directory (Host.DestDir) owned by that user.
// systemctl and sudo are shims that record their calls.
type testHost struct {
	srv     *testenv.SSHServer
	dest    string // DestDir
	root    string // release root, DestDir included
	sysLog  string // systemctl shim's log
	sudoLog string // sudo shim's log
	host    deploy.Host
	opts    deploy.Options
}

func newTestHost(t testing.TB) *testHost {
	t.Helper()
	srv := testenv.SSHD(t)
	dest := ownedTempDir(t, srv.User)
	h := &testHost{
		srv: srv, dest: dest,
		root:    filepath.Join(dest, "opt", "airctl"),
		sysLog:  filepath.Join(dest, "systemctl.log"),
		sudoLog: filepath.Join(dest, "sudo.log"),
	}
	// A host where the redis-server package is installed.
	writeFile(t, srv.User, filepath.Join(dest, "etc", "redis", "redis.conf"), "port 6379\nappendonly no\n", 0o644)
	writeFile(t, srv.User, filepath.Join(dest, "shims", "systemctl"), systemctlShim(ssh.Quote(h.sysLog), ssh.Quote(filepath.Join(dest, "systemctl.fail"))), 0o755)
	writeFile(t, srv.User, filepath.Join(dest, "shims", "sudo"), sudoShim(h.sudoLog), 0o755)
	h.host = deploy.Host{
		Name: "host-" + portOf(srv.Addr),
		SSH: ssh.Config{
			Addr: srv.Addr, User: srv.User,
			Auth:           ssh.Auth{KeyFile: srv.ClientKeyPath},
			KnownHostsFile: srv.KnownHostsPath,
		},
		DestDir: dest,
	}
	h.opts = deploy.Options{
		Who: "tester@ci", Commit: "abc123",
		Systemctl:      filepath.Join(dest, "shims", "systemctl"),
		Sudo:           filepath.Join(dest, "shims", "sudo"),
		HealthTimeout:  20 * time.Second,
		HealthInterval: 20 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return h
}

// testWriter sends log output to the test's log, shown on failure or -v.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// systemctlShim records each call in log and fails those listed in
// failFile; both are shell words, quoted by the caller.
func systemctlShim(log, failFile string) string {
	return fmt.Sprintf(`#!/bin/sh
# Test stand-in for systemctl: records the call; fails if told to.
printf '%%s\n' "$*" >> %[1]s
if [ -f %[2]s ] && grep -qxF -- "$*" %[2]s; then echo "shim: told to fail: $*" >&2; exit 1; fi
`, log, failFile)
}

// sudoShim records each call and runs it as the login user. Account and
// package management are only recorded, and install's -o/-g dropped:
// giving files away needs root, which the test host's user is not.
func sudoShim(log string) string {
	return fmt.Sprintf(`#!/bin/sh
# Test stand-in for sudo.
printf '%%s\n' "$*" >> %s
[ "$1" = -n ] && shift
case "$1" in
useradd|groupadd|usermod|apt-get|chown) exit 0 ;;
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
`, ssh.Quote(log))
}

func ownedTempDir(t testing.TB, login string) string { return sshtest.OwnedTempDir(t, login) }

func writeFile(t testing.TB, login, path, content string, mode os.FileMode) {
	sshtest.WriteFile(t, login, path, content, mode)
}

// healthServer stands in for the webserver on the host (both are on
// 127.0.0.1): healthy unless the current release's aird contains the word
// "unhealthy", with a heartbeat of now.
type healthServer struct {
	port  int
	mu    sync.Mutex
	roots []string
}

func newHealthServer(t testing.TB) *healthServer {
	hs := &healthServer{}
	srv := httptest.NewServer(http.HandlerFunc(hs.serve))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hs.port, _ = strconv.Atoi(port)
	return hs
}

func (hs *healthServer) watch(root string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.roots = append(hs.roots, root)
}

func (hs *healthServer) serve(w http.ResponseWriter, _ *http.Request) {
	status := "healthy"
	hs.mu.Lock()
	for _, root := range hs.roots {
		bin, _ := os.ReadFile(filepath.Join(root, "current", "bin", "aird"))
		if bytes.Contains(bin, []byte("unhealthy")) {
			status = "unhealthy"
		}
	}
	hs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"metadatabase": map[string]string{"status": "healthy"},
		"scheduler":    map[string]string{"status": status, "latest_scheduler_heartbeat": time.Now().UTC().Format("2006-01-02T15:04:05.999999-07:00")},
	})
}

// project is what a developer has locally: settings, the binary and DAGs.
type project struct {
	dir      string
	settings render.Settings
}

const (
	dbPassword    = "db-pass-s3cret"
	redisPassword = "redis-pass-s3cret"
	secretKey     = "secret-key-s3cret"
)

func newProject(t testing.TB, webPort int) *project {
	t.Helper()
	s := render.Defaults()
	s.DBHost = "10.1.2.3"
	s.DBPassword, s.RedisPassword, s.SecretKey = dbPassword, redisPassword, secretKey
	s.WebserverPort = webPort
	if webPort == s.FlowerPort || webPort == s.RedisPort {
		s.FlowerPort, s.RedisPort = 15555, 16379
	}
	p := &project{dir: t.TempDir(), settings: s}
	p.setBinary(t, "1", "")
	p.writeDag(t, "example.hcl", `dag "example" { schedule = "@daily" }`)
	return p
}

// setBinary writes a stub aird: it records its arguments (and whether the
// secrets reached it, not their values) in <root>/aird.log and fails if
// <root>/aird.fail exists. extra follows the script's exit, as ballast (a
// binary's size) or as a marker the health stand-in reads.
func (p *project) setBinary(t testing.TB, version, extra string) {
	t.Helper()
	stub := fmt.Sprintf(`#!/bin/sh
# stub aird version %s
root=$(cd "$(dirname "$0")/../../.." && pwd)
env=no; [ -n "${AIRD_DATABASE_PASSWORD:-}" ] && env=yes
printf '%%s secrets=%%s\n' "$*" "$env" >> "$root/aird.log"
[ -e "$root/aird.fail" ] && exit 1
exit 0
%s
`, version, extra)
	if err := os.WriteFile(filepath.Join(p.dir, "aird"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (p *project) writeDag(t testing.TB, name, content string) {
	t.Helper()
	path := filepath.Join(p.dir, "dags", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (p *project) release(t testing.TB) deploy.Release {
	t.Helper()
	files, err := render.Render(p.settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	return deploy.Release{Settings: p.settings, Files: files, Binary: filepath.Join(p.dir, "aird"), Dags: filepath.Join(p.dir, "dags")}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// lines reads a log file as lines ("" for a missing file).
func lines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func currentRelease(t testing.TB, root string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(root, "current"))
	if err != nil {
		t.Fatalf("current: %v", err)
	}
	return strings.TrimPrefix(target, "releases/")
}

func releaseDirs(t testing.TB, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "releases"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func auditRecords(t testing.TB, root string) []deploy.AuditRecord {
	t.Helper()
	var recs []deploy.AuditRecord
	for _, l := range lines(t, filepath.Join(root, "audit.log")) {
		var r deploy.AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// deployOne deploys p to h and fails the test on error.
func deployOne(t testing.TB, h *testHost, p *project, opts deploy.Options) deploy.HostResult {
	t.Helper()
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), opts)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return res.Hosts[0]
}

// setup is one host, a health server watching it, and a project.
func setup(t testing.TB) (*testHost, *project) {
	t.Helper()
	h := newTestHost(t)
	hs := newHealthServer(t)
	hs.watch(h.root)
	return h, newProject(t, hs.port)
}
