package command

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/provision/state"
)

// Crash tests: the real airctl and gcpfake binaries, airctl killed with
// SIGKILL in the middle of an apply (nothing runs on the way out: no
// deferred state write, no lock release), then re-run. The google
// provider records each create's import ID in state before sending it,
// so the re-run adopts what the killed run created instead of meeting
// "already exists" or leaving it orphaned.

// crashCount is the positive number in the environment variable name, or
// def: AIRCTL_CRASH_KILLS and AIRCTL_CRASH_ROUNDS raise the work of
// TestGCPExampleKilledApply for a soak run.
func crashCount(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

// crashSeed is AIRCTL_CRASH_SEED, else the clock; it is logged so a
// failure can be replayed.
func crashSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("AIRCTL_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AIRCTL_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with AIRCTL_CRASH_SEED=%d)", seed, seed)
	return seed
}

// crashHarness runs the binaries against one fake process and a copy of
// examples/gcp. e gives the shared inventory checks (the state, the
// fake's state file).
type crashHarness struct {
	t      *testing.T
	e      *gcpE2E
	airctl string
	env    []string
}

// buildCrashBinaries builds cmd/airctl and cmd/gcpfake into a
// temporary directory.
func buildCrashBinaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin+string(filepath.Separator),
		"github.com/airctl/airctl/cmd/airctl", "github.com/airctl/airctl/cmd/gcpfake")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// newCrashHarness starts the fake built in bin, with its file
// persistence and fakeArgs, and copies the example.
func newCrashHarness(t *testing.T, bin string, fakeArgs ...string) *crashHarness {
	t.Helper()
	e := &gcpE2E{t: t, dir: t.TempDir(), fakeFile: filepath.Join(t.TempDir(), "gcpfake.json")}
	copyGCPExample(t, e.dir)
	vars := "project_id = \"" + e2eProject + "\"\ndomain     = \"" + e2eDomain + "\"\ndb_deletion_protection = false\n"
	if err := os.WriteFile(filepath.Join(e.dir, "terraform.tfvars"), []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &crashHarness{t: t, e: e, airctl: filepath.Join(bin, "airctl")}
	exports := startFakeProcess(t, filepath.Join(bin, "gcpfake"), append([]string{"-state", e.fakeFile}, fakeArgs...))
	h.env = append(exports, "GOOGLE_PROJECT="+e2eProject, "NO_COLOR=1", "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
	e.environ = h.env // the inventory checks read a gcs state in-process
	return h
}

// startFakeProcess runs gcpfake and returns the variables of the export
// line it prints; the fake is stopped with SIGTERM at cleanup, which
// writes its state file a last time.
func startFakeProcess(t *testing.T, bin string, args []string) []string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("gcpfake: %v\n%s", err, stderr)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("gcpfake printed no export line: %v\n%s", err, stderr)
	}
	vars, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
	if !ok {
		t.Fatalf("gcpfake printed %q, want an export line", line)
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(discard{}) }()
	return strings.Fields(vars)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// command is airctl with args in the example directory.
func (h *crashHarness) command(ctx context.Context, args ...string) (*exec.Cmd, *syncBuffer) {
	cmd := exec.CommandContext(ctx, h.airctl, append([]string{"-chdir=" + h.e.dir}, args...)...)
	cmd.Env = h.env
	out := newSyncBuffer()
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// must runs airctl to completion and wants exit code want.
func (h *crashHarness) must(want int, args ...string) string {
	h.t.Helper()
	code, out := h.run(args...)
	if code != want {
		h.t.Fatalf("airctl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// run runs airctl to completion and returns its exit code and output.
func (h *crashHarness) run(args ...string) (int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), 2*time.Minute)
	defer cancel()
	cmd, out := h.command(ctx, args...)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		h.t.Fatalf("airctl %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String()
}

// creating lists the import IDs of the create intents in the local state
// file (nil before the first write).
func (h *crashHarness) creating() map[string]bool {
	b, err := os.ReadFile(filepath.Join(h.e.dir, "airctl.tfstate"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := state.Decode(b) // written by rename: never partial
	if err != nil {
		h.t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range st.Resources {
		for _, in := range r.Instances {
			if in.Status == state.Creating {
				ids[in.ImportID] = true
			}
		}
	}
	return ids
}

// killMidApply starts an apply, waits until it has made progress (as
// progressed tells: a new create intent in the state, a new object in the
// fake), waits a random delay from rng and kills it with SIGKILL. It
// reports whether the apply was still running when killed; one that
// finished on its own must have succeeded.
func (h *crashHarness) killMidApply(rng *rand.Rand, maxDelay time.Duration, progressed func() bool) bool {
	h.t.Helper()
	cmd, out := h.command(h.t.Context(), "apply", "-auto-approve", "-no-color")
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(time.Minute)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !progressed() {
		select {
		case err := <-exited:
			// Nothing new to create (the rest was adopted): fine if it
			// succeeded.
			if err != nil {
				h.t.Fatalf("the apply failed (%v) before it made progress\n%s", err, out)
			}
			h.t.Logf("the apply finished without new creates")
			return false
		case <-deadline:
			_ = cmd.Process.Kill()
			h.t.Fatalf("the apply made no progress within a minute\n%s", out)
		case <-tick.C:
		}
	}
	delay := time.Duration(rng.Int64N(int64(maxDelay)))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case err := <-exited:
		h.t.Logf("the apply finished (%v) before its kill %v after progress", err, delay)
		return false
	case <-timer.C:
	}
	if err := cmd.Process.Kill(); err != nil {
		h.t.Fatal(err)
	}
	<-exited
	h.t.Logf("killed %v after progress", delay)
	return true
}

var adoptedLine = regexp.MustCompile(`# (\S+) will be adopted`)

// TestGCPExampleKilledApply kills "airctl apply" on examples/gcp with
// SIGKILL while operations are in flight (the fake's realistic latencies,
// scaled down) and checks that re-running converges; see the subtests.
// A soak run sets AIRCTL_CRASH_ROUNDS (default 1) and AIRCTL_CRASH_KILLS
// (kills per round, default 3); AIRCTL_CRASH_SEED replays a run.
func TestGCPExampleKilledApply(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries (-short)")
	}
	bin := buildCrashBinaries(t)
	t.Run("local", func(t *testing.T) { testKilledApplyLocal(t, bin) })
	t.Run("gcs-lock", func(t *testing.T) { testKilledApplyGCSLock(t, bin) })
}

// testKilledApplyLocal runs rounds of: kill the apply at random points
// (each after the previous run made progress), re-run it to completion,
// check, destroy. After each complete apply the fake must hold exactly
// what the state records, one VM, no create intent left and no changes
// to plan; destroy must empty it. Over all rounds at least one run must
// have adopted an object a killed run created, or the kills missed the
// window this is about.
func testKilledApplyLocal(t *testing.T, bin string) {
	rng := rand.New(rand.NewPCG(crashSeed(t), 0))
	h := newCrashHarness(t, bin, "-profile", "realistic", "-latency-scale", "0.2")
	kills := crashCount(t, "AIRCTL_CRASH_KILLS", 3)
	adopted := 0
	for round := range crashCount(t, "AIRCTL_CRASH_ROUNDS", 1) {
		var outputs []string
		for i := range kills {
			before := h.creating()
			killed := h.killMidApply(rng, 500*time.Millisecond, func() bool {
				for id := range h.creating() {
					if !before[id] {
						return true
					}
				}
				return false
			})
			t.Logf("round %d, kill %d: create intents left in state: %d; objects in the fake: %d", round+1, i+1, len(h.creating()), len(h.e.fakeObjects()))
			if !killed {
				break
			}
			// A plan between kills shows the adoptions without writing
			// anything (plans never write state); it has changes unless
			// the kill came after the last state write.
			code, out := h.run("plan", "-detailed-exitcode", "-no-color")
			if code != 2 && code != 0 {
				t.Fatalf("plan after a kill: exit %d\n%s", code, out)
			}
			outputs = append(outputs, out)
		}
		outputs = append(outputs, h.must(0, "apply", "-auto-approve", "-no-color"))
		for _, o := range outputs {
			for _, m := range adoptedLine.FindAllStringSubmatch(o, -1) {
				t.Logf("adopted %s", m[1])
				adopted++
			}
		}
		if ids := h.creating(); len(ids) > 0 {
			t.Errorf("create intents left in state after a complete apply: %v", ids)
		}
		h.e.converged(gcpMinObjects)
		if n := h.e.countVMs(); n != 1 {
			t.Errorf("%d VMs, want 1 (no duplicate): %v", n, h.e.fakeObjects())
		}
		h.must(0, "plan", "-detailed-exitcode", "-no-color")
		h.must(0, "destroy", "-auto-approve", "-no-color")
		h.e.empty()
	}
	if adopted == 0 {
		t.Errorf("no run adopted an object: the kills never landed between a create and its state write")
	}
}

var forceUnlockCmd = regexp.MustCompile(`airctl force-unlock (\d+)`)

// testKilledApplyGCSLock: with the gcs backend a killed apply leaves its
// lock object. The next apply must refuse with the exact force-unlock
// command (the lock's generation); after running it the apply converges.
func testKilledApplyGCSLock(t *testing.T, bin string) {
	rng := rand.New(rand.NewPCG(crashSeed(t), 0))
	h := newCrashHarness(t, bin, "-profile", "realistic", "-latency-scale", "0.2")
	h.e.stateBucket = "e2e-airctl-state"
	b, err := os.ReadFile(filepath.Join(gcpExampleDir, "backend.tf"))
	if err != nil {
		t.Fatal(err)
	}
	backend := strings.Replace(string(b), `bucket = "my-project-airctl-state"`, `bucket = "`+h.e.stateBucket+`"`, 1)
	if err := os.WriteFile(filepath.Join(h.e.dir, "backend.tf"), []byte(backend), 0o644); err != nil {
		t.Fatal(err)
	}
	var endpoint string
	for _, kv := range h.env {
		if v, ok := strings.CutPrefix(kv, "GOOGLE_STORAGE_CUSTOM_ENDPOINT="); ok {
			endpoint = v
		}
	}
	sc, err := storage.NewClient(t.Context(), option.WithEndpoint(endpoint), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Bucket(h.e.stateBucket).Create(t.Context(), e2eProject, &storage.BucketAttrs{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	h.must(0, "init", "-no-color")

	if !h.killMidApply(rng, 300*time.Millisecond, func() bool { return len(h.e.fakeObjects()) > 0 }) {
		t.Fatal("the apply finished before it was killed")
	}
	out := h.must(1, "apply", "-auto-approve", "-no-color")
	m := forceUnlockCmd.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the locked apply does not say which force-unlock to run:\n%s", out)
	}
	attrs, err := sc.Bucket(h.e.stateBucket).Object("airflow/prod/default.tflock").Attrs(t.Context())
	if err != nil {
		t.Fatalf("the killed apply left no lock object: %v", err)
	}
	if want := fmt.Sprint(attrs.Generation); m[1] != want {
		t.Fatalf("the message says force-unlock %s, the lock's generation is %s", m[1], want)
	}
	h.must(0, "force-unlock", "-force", m[1])
	h.must(0, "apply", "-auto-approve", "-no-color")
	h.e.converged(gcpMinObjects)
	h.must(0, "plan", "-detailed-exitcode", "-no-color")
	h.must(0, "destroy", "-auto-approve", "-no-color")
	h.e.empty()
}
