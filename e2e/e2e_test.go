//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
)

// units are the aird units the deploy enables (render.Settings.EnableUnits
// with one worker), checked after every step that may touch them.
var units = []string{
	"aird-scheduler.service", "aird-webserver.socket", "aird-webserver.service",
	"aird-worker@1.service", "aird-flower.service", "redis-server.service",
}

// services are the units with a main process, whose start times tell
// whether a deploy restarted them.
var services = []string{"aird-scheduler.service", "aird-webserver.service", "aird-worker@1.service", "aird-flower.service"}

// TestEndToEnd is issue 10: provision examples/gcp against gcpfake and
// deploy to a real Debian 12 VM, then exercise the platform and every kind
// of redeploy. Steps depend on each other, so they run in one test, in
// order; a failure stops it (and testenv.VM prints the console log and the
// journal of failing units).
func TestEndToEnd(t *testing.T) {
	// Under make e2e's 15m -timeout, so cleanups (VM stop) still run.
	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Minute)
	defer cancel()
	s := &stack{t: t, repo: repoRoot(t)}
	s.airctlBin = builtBinary(t, s.repo, "bin/airctl")
	builtBinary(t, s.repo, "bin/linux-amd64/aird") // the first release, found by airctl next to itself
	var tm timings

	tm.measure("boot VM", func() { s.vm = testenv.VM(t, 80, 5555) })
	t.Cleanup(func() { s.dumpJournals() })
	s.web = "http://127.0.0.1:" + strconv.Itoa(s.vm.Forwards[80])
	s.flower = "http://127.0.0.1:" + strconv.Itoa(s.vm.Forwards[5555])
	s.startDatabase(ctx)
	s.startFake()
	s.openTunnels(ctx)
	t.Cleanup(s.closeTunnels)
	s.prepareGuest(ctx)
	s.project()

	var first string
	var firstDeploy time.Duration
	tm.measure("apply (provision + first deploy)", func() {
		out := s.airctl(ctx, 0, "apply", "-auto-approve", "-input=false")
		for _, want := range []string{"Apply complete!", "Deploy complete!", "1 deployed", ": bootstrap done", ": migrate done"} {
			if !strings.Contains(out, want) {
				t.Fatalf("apply output lacks %q", want)
			}
		}
		first = releaseOf(t, out)
		firstDeploy = deployTime(t, out)
	})
	tm.add("  of which the first deploy (its steps)", firstDeploy)
	if res := s.stateResources(ctx); len(res) < 14 {
		t.Fatalf("state holds %d resources after apply, want the whole stack (14+): %v", len(res), res)
	}
	s.checkRunning(ctx)
	s.checkBootstrap(ctx)
	s.verifyUnits(ctx)
	s.createAdmin(ctx)
	firstVersion, err := s.version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.runDAG(ctx, "e2e_hello", "hello")
	s.checkFlower(ctx)

	tm.measure("no-op deploy", func() {
		out := s.airctl(ctx, 0, "deploy")
		if !strings.Contains(out, "1 unchanged") {
			t.Fatalf("a deploy with nothing changed did not report the host unchanged")
		}
	})

	before := s.unitStarts(ctx, services)
	tm.measure("DAG-only deploy", func() {
		dag := strings.ReplaceAll(readFile(t, filepath.Join(s.dir, "dags", "e2e_hello.hcl")), "e2e_hello", "e2e_second")
		writeFile(t, filepath.Join(s.dir, "dags", "e2e_second.hcl"), dag)
		out := s.airctl(ctx, 0, "deploy")
		if !strings.Contains(out, "DAG-only change") || !strings.Contains(out, "1 deployed") {
			t.Fatalf("the DAG-only deploy was not reported as one")
		}
	})
	if after := s.unitStarts(ctx, services); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a DAG-only deploy restarted units: start times before %v, after %v", before, after)
	}
	eventually(ctx, t, 2*time.Minute, "the new DAG is listed", func(ctx context.Context) error {
		return api(ctx, "GET", s.web+"/api/v1/dags/e2e_second", nil, nil)
	})

	v2 := "e2e-v2-" + strconv.FormatInt(time.Now().Unix(), 10)
	bin2 := buildAird(ctx, t, s.repo, v2)
	tm.measure("full deploy (new binary)", func() {
		errs, stop := s.hammer(ctx)
		out := s.airctl(ctx, 0, "deploy", "-binary", bin2)
		failed, total := stop()
		if !strings.Contains(out, "1 deployed") {
			t.Fatalf("the binary change was not deployed")
		}
		if failed > 0 {
			t.Fatalf("%d of %d requests to the webserver failed during the ordered restart: %v", failed, total, errs())
		}
		t.Logf("webserver answered all %d requests during the restart", total)
	})
	s.expectVersion(ctx, v2)
	s.checkRunning(ctx)

	broken := s.brokenBinary(t)
	tm.measure("deploy failing health -> automatic rollback", func() {
		out := s.airctl(ctx, 1, "deploy", "-binary", broken)
		if !strings.Contains(out, "1 rolled-back") {
			t.Fatalf("a release failing its health gate was not rolled back")
		}
	})
	s.expectVersion(ctx, v2)
	s.checkRunning(ctx)

	tm.measure("airctl rollback to the first release", func() {
		out := s.airctl(ctx, 0, "rollback", first)
		if !strings.Contains(out, first) {
			t.Fatalf("rollback output does not name release %s", first)
		}
	})
	s.expectVersion(ctx, firstVersion)
	s.checkRunning(ctx)

	tm.measure("guest reboot -> services back", func() { s.reboot(ctx) })
	s.checkRunning(ctx)

	tm.measure("destroy", func() {
		s.airctl(ctx, 0, "destroy", "-auto-approve", "-input=false")
	})
	if res := s.stateResources(ctx); len(res) != 0 {
		t.Fatalf("resources left after destroy: %v", res)
	}
	t.Logf("end-to-end timings (VM %s boot):\n%s", s.vm.Boot, &tm)
}

// dumpJournals logs the recent journal of every aird unit when the test
// failed (testenv.VM adds the console log and the failed units'), since a
// unit can be active and still be what went wrong.
func (s *stack) dumpJournals() {
	if !s.t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.vm.Output(ctx, "systemctl status --no-pager 'aird-*' redis-server; sudo -n ss -ltnp; sudo -n journalctl --no-pager -o short-precise -n 150 -u 'aird-*'")
	s.t.Logf("guest units and journal:\n%s%v", out, err)
}

// prepareGuest points the aird units at the fake's GCS through the tunnel:
// the stand-in for the VM's service account and Google's endpoint, which
// a real VM reaches without any of this. A drop-in for the "aird-" prefix
// applies to every aird unit without touching what the deploy installs.
func (s *stack) prepareGuest(ctx context.Context) {
	dropIn := fmt.Sprintf("[Service]\nEnvironment=STORAGE_EMULATOR_HOST=%s\n", s.fakeAddr)
	s.guest(ctx, fmt.Sprintf("sudo -n install -d -m 0755 /etc/systemd/system/aird-.service.d && printf %%s %s | sudo -n tee /etc/systemd/system/aird-.service.d/e2e-gcs.conf >/dev/null",
		shellQuote(dropIn)))
}

// checkRunning waits until every unit is active, /health is healthy with
// a fresh scheduler heartbeat and no unit is failed.
func (s *stack) checkRunning(ctx context.Context) {
	s.t.Helper()
	eventually(ctx, s.t, 2*time.Minute, "every unit active", func(ctx context.Context) error {
		out, err := s.vm.Output(ctx, "systemctl is-active "+strings.Join(units, " "))
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
	eventually(ctx, s.t, 2*time.Minute, "/health healthy", func(ctx context.Context) error { return s.health(ctx, time.Minute) })
}

// checkBootstrap checks what the first deploy set up on the fresh host:
// the service account, directories, Redis bound to loopback with a
// password, without apt (the guest has no network).
func (s *stack) checkBootstrap(ctx context.Context) {
	s.t.Helper()
	s.guest(ctx, "id aird && test -d /var/lib/aird && test -d /var/log/aird && test -d /etc/aird")
	if out, err := s.vm.Output(ctx, "redis-cli -h 127.0.0.1 ping"); err == nil && strings.Contains(out, "PONG") {
		s.t.Fatalf("Redis answers without a password")
	}
	out := s.guest(ctx, "sudo -n sh -c '. /etc/aird/aird.env; REDISCLI_AUTH=$AIRD_REDIS_PASSWORD redis-cli -h 127.0.0.1 ping'; ss -ltn | grep ':6379 '")
	if !strings.Contains(out, "PONG") {
		s.t.Fatalf("Redis does not answer with aird's password: %s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, ":6379") && !strings.Contains(l, "127.0.0.1:6379") && !strings.Contains(l, "[::1]:6379") {
			s.t.Fatalf("Redis listens beyond the loopback: %s", l)
		}
	}
}

// verifyUnits runs systemd-analyze verify on the installed units.
func (s *stack) verifyUnits(ctx context.Context) {
	s.t.Helper()
	var paths []string
	for _, u := range units {
		if strings.HasPrefix(u, "aird-") {
			paths = append(paths, "/etc/systemd/system/"+strings.Replace(u, "@1", "@", 1))
		}
	}
	out, err := s.vm.Output(ctx, "systemd-analyze verify "+strings.Join(paths, " ")+" 2>&1")
	if err != nil || strings.TrimSpace(out) != "" {
		s.t.Fatalf("systemd-analyze verify is not clean: %v\n%s", err, out)
	}
}

// createAdmin makes the API user with aird on the guest, with the
// deployed config and secrets, as an operator would.
func (s *stack) createAdmin(ctx context.Context) {
	s.t.Helper()
	s.guest(ctx, "sudo -n sh -c 'set -a; . /etc/aird/aird.env; set +a; cd /tmp; AIRD_HOME=/var/lib/aird /opt/airctl/current/bin/aird --config /etc/aird/aird.hcl users create --username "+
		adminUser+" --role Admin --email e2e@example.com --password "+adminPass+"'")
}

// runDAG unpauses and triggers dag through the REST
// API, waits for the run to succeed on the Redis worker and finds the
// task's log in the bucket at logs/{dag_id}/{task_id}/{ts}/{try}.log.
func (s *stack) runDAG(ctx context.Context, dag, task string) {
	s.t.Helper()
	eventually(ctx, s.t, 2*time.Minute, "DAG "+dag+" loaded", func(ctx context.Context) error {
		return api(ctx, "PATCH", s.web+"/api/v1/dags/"+dag, map[string]any{"is_paused": false}, nil)
	})
	var run struct {
		ID string `json:"dag_run_id"`
	}
	if err := api(ctx, "POST", s.web+"/api/v1/dags/"+dag+"/dagRuns", map[string]any{"conf": map[string]any{}}, &run); err != nil {
		s.t.Fatal(err)
	}
	eventually(ctx, s.t, 3*time.Minute, "run "+run.ID+" succeeded", func(ctx context.Context) error {
		var r struct{ State string }
		if err := api(ctx, "GET", s.web+"/api/v1/dags/"+dag+"/dagRuns/"+run.ID, nil, &r); err != nil {
			return err
		}
		if r.State == "failed" {
			s.t.Fatalf("run %s failed", run.ID)
		}
		if r.State != "success" {
			return fmt.Errorf("state %q", r.State)
		}
		return nil
	})
	var log string
	eventually(ctx, s.t, time.Minute, "task log in the bucket", func(ctx context.Context) error {
		names, err := s.fakeObjects(ctx, "logs/"+dag+"/"+task+"/")
		if err != nil {
			return err
		}
		for _, n := range names {
			if strings.HasSuffix(n, "/1.log") {
				log, err = s.fakeObject(ctx, n)
				return err
			}
		}
		return fmt.Errorf("no logs/%s/%s/{ts}/1.log among %v", dag, task, names)
	})
	if !strings.Contains(log, "hello from debvm") {
		s.t.Fatalf("the task log in the bucket lacks the task's output:\n%s", log)
	}
}

// checkFlower waits until the monitor lists the worker, alive.
func (s *stack) checkFlower(ctx context.Context) {
	s.t.Helper()
	eventually(ctx, s.t, time.Minute, "flower lists the worker", func(ctx context.Context) error {
		var ws struct {
			Workers []struct {
				Role, Hostname string
				Alive          bool
			} `json:"workers"`
		}
		if err := api(ctx, "GET", s.flower+"/api/workers", nil, &ws); err != nil {
			return err
		}
		for _, w := range ws.Workers {
			if w.Role == "worker" && w.Hostname == "debvm" && w.Alive {
				return nil
			}
		}
		return fmt.Errorf("no live worker on debvm among %+v", ws.Workers)
	})
}

// hammer requests /health in a loop until stop is called, which returns
// how many requests failed out of how many; errs lists the first failures.
func (s *stack) hammer(ctx context.Context) (errs func() []string, stop func() (failed, total int)) {
	ctx, cancel := context.WithCancel(ctx)
	var failed, total atomic.Int64
	var mu sync.Mutex
	var first []string
	done := make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", s.web+"/health", nil)
			resp, err := client.Do(req)
			if ctx.Err() != nil {
				return
			}
			total.Add(1)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			if err != nil {
				failed.Add(1)
				mu.Lock()
				if len(first) < 5 {
					first = append(first, time.Now().Format("15:04:05.000")+" "+err.Error())
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	errs = func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(first) }
	stop = func() (int, int) { cancel(); <-done; return int(failed.Load()), int(total.Load()) }
	return errs, stop
}

// expectVersion waits until the webserver reports version.
func (s *stack) expectVersion(ctx context.Context, want string) {
	s.t.Helper()
	eventually(ctx, s.t, time.Minute, "webserver version "+want, func(ctx context.Context) error {
		v, err := s.version(ctx)
		if err == nil && v != want {
			err = fmt.Errorf("version %q", v)
		}
		return err
	})
}

// brokenBinary is a release whose services exit at once: its migration
// passes (it runs the release still current then), so the deploy gets as
// far as the restart and fails the health gate.
func (s *stack) brokenBinary(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "aird")
	script := `#!/bin/sh
# e2e: an aird that fails its health check. Migrations go to the running
# release's aird (current still points at it while they run).
case " $* " in *" db migrate "*) exec /opt/airctl/current/bin/aird "$@" ;; esac
echo "aird (e2e broken build): exiting at start" >&2
exit 1
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// reboot restarts the guest and waits for every service to come back; the
// tunnels end with the old boot and are opened again.
func (s *stack) reboot(ctx context.Context) {
	s.t.Helper()
	bootID := strings.TrimSpace(s.guest(ctx, "cat /proc/sys/kernel/random/boot_id"))
	s.closeTunnels()
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	_, _ = s.vm.Output(rctx, "sudo -n systemctl reboot") // the connection may drop before an answer
	cancel()
	eventually(ctx, s.t, 4*time.Minute, "guest back with a new boot id", func(ctx context.Context) error {
		out, err := s.vm.Output(ctx, "cat /proc/sys/kernel/random/boot_id; systemctl is-system-running --wait || true")
		if err != nil {
			return err
		}
		if strings.HasPrefix(out, bootID) {
			return fmt.Errorf("still the old boot")
		}
		return nil
	})
	s.openTunnels(ctx)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shellQuote single-quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
