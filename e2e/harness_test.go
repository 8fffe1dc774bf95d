//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	gossh "golang.org/x/crypto/ssh"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/internal/testenv"
)

const (
	project     = "e2e-project"
	domain      = "airflow.example.com"
	adminUser   = "e2e-admin"
	adminPass   = "e2e-admin-password"
	guestPGPort = 5432
	pollEvery   = 500 * time.Millisecond
)

// stack is everything one end-to-end run uses: the VM, the stand-ins for
// Cloud SQL and GCS, the project directory and the built binaries.
type stack struct {
	t         *testing.T
	repo      string
	airctlBin string // bin/airctl
	dir       string // copy of examples/gcp with the e2e deploy block
	environ   []string

	vm       *testenv.VMServer
	pg       *testenv.PostgresServer
	fake     *gcpfake.Server
	fakeAddr string // 127.0.0.1:port, the same on host and guest
	bucket   string

	tunMu sync.Mutex
	tun   *gossh.Client // holds the guest's reverse forwards

	web, flower string // http://127.0.0.1:port forwarded to the guest's 80 and 5555
}

// repoRoot is the module root: the parent of this package's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// builtBinary returns a `make build` output, failing with the fix if it
// is missing.
func builtBinary(t *testing.T, repo string, rel string) string {
	t.Helper()
	p := filepath.Join(repo, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing (%v): run `make build` first (make e2e does)", rel, err)
	}
	return p
}

// startFake serves gcpfake on a free loopback port with instant operations.
func (s *stack) startFake() {
	fake, err := gcpfake.Open(gcpfake.Options{Latency: gcpfake.InstantLatency(), Projects: []string{project}})
	if err != nil {
		s.t.Fatal(err)
	}
	ts := httptest.NewServer(fake.Handler())
	s.t.Cleanup(func() {
		ts.Close()
		if err := fake.Close(); err != nil {
			s.t.Errorf("closing gcpfake: %v", err)
		}
	})
	s.fake, s.fakeAddr = fake, strings.TrimPrefix(ts.URL, "http://")
	s.environ = append(os.Environ(), gcpfake.EndpointsFor(ts.URL).Env()...)
	s.environ = append(s.environ, "GOOGLE_PROJECT="+project, "NO_COLOR=1")
}

// startDatabase creates the airflow role and database in the local
// Postgres, as google_sql_user and google_sql_database do in Cloud SQL.
func (s *stack) startDatabase(ctx context.Context) {
	s.pg = testenv.Postgres(s.t)
	conn, err := pgx.Connect(ctx, s.pg.DSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range []string{`CREATE ROLE airflow LOGIN`, `CREATE DATABASE airflow OWNER airflow`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			s.t.Fatalf("%s: %v", q, err)
		}
	}
}

// openTunnels connects to the guest and makes the local Postgres appear on
// its 127.0.0.1:5432 and gcpfake on its 127.0.0.1 at the fake's own port
// (so the fake's object URLs name the same host on both sides). A reboot
// ends them; the test opens them again.
func (s *stack) openTunnels(ctx context.Context) {
	s.t.Helper()
	c, err := s.vm.Dial(ctx)
	if err != nil {
		s.t.Fatalf("ssh to the guest for the tunnels: %v", err)
	}
	_, fakePort, _ := net.SplitHostPort(s.fakeAddr)
	forwards := map[string]string{
		net.JoinHostPort("127.0.0.1", strconv.Itoa(guestPGPort)): net.JoinHostPort(s.pg.Host, strconv.Itoa(s.pg.Port)),
		net.JoinHostPort("127.0.0.1", fakePort):                  s.fakeAddr,
	}
	for remote, local := range forwards {
		ln, err := c.Listen("tcp", remote)
		if err != nil {
			c.Close()
			s.t.Fatalf("reverse forward guest %s -> %s: %v", remote, local, err)
		}
		go serveForward(ln, local)
	}
	s.tunMu.Lock()
	old := s.tun
	s.tun = c
	s.tunMu.Unlock()
	if old != nil {
		old.Close()
	}
}

func (s *stack) closeTunnels() {
	s.tunMu.Lock()
	defer s.tunMu.Unlock()
	if s.tun != nil {
		s.tun.Close()
		s.tun = nil
	}
}

// serveForward copies each connection accepted on the guest to local,
// until the SSH connection ends.
func serveForward(ln net.Listener, local string) {
	for {
		remote, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer remote.Close()
			conn, err := net.Dial("tcp", local)
			if err != nil {
				return
			}
			defer conn.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(conn, remote); done <- struct{}{} }()
			go func() { _, _ = io.Copy(remote, conn); done <- struct{}{} }()
			<-done
		}()
	}
}

// project copies examples/gcp without its gcs backend (state stays in the
// local airctl.tfstate), adds the e2e deploy block, the DAGs, the guest's
// pinned host key and the variables.
func (s *stack) project() {
	s.t.Helper()
	s.dir = s.t.TempDir()
	src := filepath.Join(s.repo, "examples", "gcp")
	entries, err := os.ReadDir(src)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".tf") || e.Name() == "backend.tf" {
			continue
		}
		copyFile(s.t, filepath.Join(src, e.Name()), filepath.Join(s.dir, e.Name()))
	}
	copyFile(s.t, filepath.Join("testdata", "deploy.tf"), filepath.Join(s.dir, "deploy.tf"))
	copyFile(s.t, filepath.Join("testdata", "dags", "e2e_hello.hcl"), filepath.Join(s.dir, "dags", "e2e_hello.hcl"))
	copyFile(s.t, s.vm.KnownHostsPath, filepath.Join(s.dir, "known_hosts"))
	tfvars := fmt.Sprintf(`project_id             = %q
domain                 = %q
db_deletion_protection = false
log_bucket_force_destroy = true
e2e_ssh_port           = %d
e2e_ssh_key            = %q
`, project, domain, s.vm.Port, s.vm.KeyPath)
	writeFile(s.t, filepath.Join(s.dir, "terraform.tfvars"), tfvars)
	s.environ = append(s.environ, "TF_VAR_e2e_redis_password=e2e-redis-"+strconv.FormatInt(time.Now().UnixNano(), 36),
		"TF_VAR_e2e_secret_key=e2e-secret-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	s.bucket = project + "-airflow-logs"
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// airctl runs the CLI in the project; want is the exit code expected.
func (s *stack) airctl(ctx context.Context, want int, args ...string) string {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, s.airctlBin, args...)
	cmd.Dir, cmd.Env = s.dir, s.environ
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatalf("airctl %s: %v", strings.Join(args, " "), err)
	}
	s.t.Logf("$ airctl %s  (exit %d)\n%s", strings.Join(args, " "), code, out)
	if code != want {
		s.t.Fatalf("airctl %s exited %d, want %d", strings.Join(args, " "), code, want)
	}
	return string(out)
}

// guest runs a command in the guest, failing the test on error.
func (s *stack) guest(ctx context.Context, cmd string) string {
	s.t.Helper()
	out, err := s.vm.Output(ctx, cmd)
	if err != nil {
		s.t.Fatalf("guest: %v\n%s", err, out)
	}
	return out
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(ctx context.Context, t *testing.T, within time.Duration, what string, check func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last error
	for {
		err := check(ctx)
		if err == nil {
			return
		}
		// Keep the verdict of the last whole check, not the deadline
		// cutting the next one short.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, within, last)
		case <-time.After(pollEvery):
		}
	}
}

// apiClient bounds each request: an unanswered one must fail the poll
// that made it, not swallow the poll's whole budget.
var apiClient = &http.Client{Timeout: 20 * time.Second}

// api does an authenticated JSON request against the guest's webserver
// (through the forwarded port 80) or flower, decoding into out.
func api(ctx context.Context, method, url string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(adminUser, adminPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w: %s", method, url, err, b)
	}
	return nil
}

// health reads /health and requires a healthy database and a scheduler
// heartbeat younger than maxAge.
func (s *stack) health(ctx context.Context, maxAge time.Duration) error {
	var h struct {
		Metadatabase struct{ Status string } `json:"metadatabase"`
		Scheduler    struct {
			Status    string `json:"status"`
			Heartbeat string `json:"latest_scheduler_heartbeat"`
		} `json:"scheduler"`
	}
	if err := api(ctx, "GET", s.web+"/health", nil, &h); err != nil {
		return err
	}
	beat, err := time.Parse(time.RFC3339Nano, h.Scheduler.Heartbeat)
	switch {
	case h.Metadatabase.Status != "healthy" || h.Scheduler.Status != "healthy":
		return fmt.Errorf("health: database %q, scheduler %q", h.Metadatabase.Status, h.Scheduler.Status)
	case err != nil:
		return fmt.Errorf("health: heartbeat %q: %w", h.Scheduler.Heartbeat, err)
	case time.Since(beat) > maxAge:
		return fmt.Errorf("health: scheduler heartbeat %s is %s old", h.Scheduler.Heartbeat, time.Since(beat).Round(time.Second))
	}
	return nil
}

// version is what the webserver reports as its aird version.
func (s *stack) version(ctx context.Context) (string, error) {
	var v struct{ Version string }
	err := api(ctx, "GET", s.web+"/api/v1/version", nil, &v)
	return v.Version, err
}

var releaseRe = regexp.MustCompile(`Release ([0-9a-f]{8,})`)

// releaseOf reads the release name from a deploy's closing line.
func releaseOf(t *testing.T, out string) string {
	t.Helper()
	m := releaseRe.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no release in the deploy output")
	}
	return m[len(m)-1][1]
}

// buildAird builds aird for the guest with version stamped in, as make
// build does.
func buildAird(ctx context.Context, t *testing.T, repo, version string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "aird")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags",
		"-s -w -X github.com/airctl/airctl/internal/version.Version="+version, "-o", out, "./cmd/aird")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build aird %s: %v\n%s", version, err, b)
	}
	return out
}

// unitStarts maps each unit to the monotonic time its main process started.
func (s *stack) unitStarts(ctx context.Context, units []string) map[string]string {
	s.t.Helper()
	starts := map[string]string{}
	for _, u := range units {
		starts[u] = strings.TrimSpace(s.guest(ctx, "systemctl show -p ExecMainStartTimestampMonotonic --value "+u))
	}
	return starts
}

// fakeObjects lists the fake bucket's object names under prefix.
func (s *stack) fakeObjects(ctx context.Context, prefix string) ([]string, error) {
	var list struct {
		Items []struct{ Name string } `json:"items"`
	}
	u := fmt.Sprintf("http://%s/storage/v1/b/%s/o?prefix=%s", s.fakeAddr, s.bucket, url.QueryEscape(prefix))
	if err := api(ctx, "GET", u, nil, &list); err != nil {
		return nil, err
	}
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Name)
	}
	return names, nil
}

// fakeObject downloads one object from the fake bucket.
func (s *stack) fakeObject(ctx context.Context, name string) (string, error) {
	u := fmt.Sprintf("http://%s/storage/v1/b/%s/o/%s?alt=media", s.fakeAddr, s.bucket, url.PathEscape(name))
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return string(b), err
}

// stateResources lists the resources in the state.
func (s *stack) stateResources(ctx context.Context) []string {
	s.t.Helper()
	out := s.airctl(ctx, 0, "state", "list")
	return strings.Fields(out)
}

// timings collects the durations printed at the end.
type timings struct {
	names []string
	d     map[string]time.Duration
}

func (tm *timings) measure(name string, fn func()) {
	if tm.d == nil {
		tm.d = map[string]time.Duration{}
	}
	start := time.Now()
	fn()
	tm.names = append(tm.names, name)
	tm.d[name] = time.Since(start)
}

// add records a duration measured elsewhere.
func (tm *timings) add(name string, d time.Duration) {
	if tm.d == nil {
		tm.d = map[string]time.Duration{}
	}
	tm.names = append(tm.names, name)
	tm.d[name] = d
}

var stepRe = regexp.MustCompile(`: [a-z]+ done after ([0-9.]+(?:ms|s)|[0-9]+m[0-9.]+s)`)

// deployTime sums the durations of a deploy's steps in airctl's progress
// lines: the deploy's share of an apply that also provisioned.
func deployTime(t *testing.T, out string) time.Duration {
	t.Helper()
	var total time.Duration
	for _, m := range stepRe.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("step duration %q: %v", m[1], err)
		}
		total += d
	}
	return total
}

func (tm *timings) String() string {
	var b strings.Builder
	b.WriteString("| step | time |\n| --- | --- |\n")
	for _, n := range tm.names {
		fmt.Fprintf(&b, "| %s | %.1f s |\n", n, tm.d[n].Seconds())
	}
	return b.String()
}
