package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/provision/provider/testprovider"
	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/local"
)

// holdLocalLock takes the local state lock as another airctl would and
// returns its release.
func holdLocalLock(t *testing.T, c *cli) func() {
	t.Helper()
	b, err := local.New(filepath.Join(c.dir, "airctl.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	info := state.NewLockInfo("apply", "test")
	info.Who = "held-by-test"
	id, err := b.Lock(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := b.Unlock(context.Background(), id); err != nil {
			t.Error(err)
		}
	}
}

// TestLockContention runs two applies at once: while the first holds the
// lock (its create is held at a gate), a second without -lock-timeout
// fails naming the holder, and one with -lock-timeout waits and then
// runs.
func TestLockContention(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	gate := c.tp.Block(testprovider.OpCreate, "a")
	first := make(chan result, 1)
	go func() { first <- c.runWith(context.Background(), nil, nil, "apply", "-auto-approve") }()
	waitArrival(t, gate)

	r := c.must(1, "plan")
	contains(t, r, "stderr", "acquiring the state lock", "state is locked by", `operation "apply"`, "-lock-timeout")

	second := make(chan result, 1)
	go func() {
		second <- c.runWith(context.Background(), nil, nil, "apply", "-auto-approve", "-lock-timeout=1m")
	}()
	gate.Release()
	if r := <-first; r.code != 0 {
		t.Fatalf("first apply: %s", r)
	}
	r = <-second
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("second apply (after waiting for the lock): %s", r)
	}
	if n := c.tp.CountOps(testprovider.OpCreate); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	// -lock=false runs even while someone holds the lock
	release := holdLocalLock(t, c)
	defer release()
	c.must(0, "plan", "-lock=false")
}

// TestForceUnlockLocal clears the lock details a crashed airctl left in
// the lock file (the flock itself died with the process).
func TestForceUnlockLocal(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	stale := state.LockInfo{ID: "dead-beef", Operation: "apply", Who: "ci@runner-7", Created: time.Now().UTC()}
	b, _ := json.Marshal(stale)
	c.write("airctl.tfstate.lock", string(b))

	r := c.must(1, "force-unlock", "dead-beef")
	contains(t, r, "stderr", "stdin is not a terminal", "-force")
	c.stdinTTY, c.stdin = true, "no\n"
	c.must(1, "force-unlock", "dead-beef")
	c.stdin = "yes\n"
	r = c.must(0, "force-unlock", "dead-beef")
	contains(t, r, "stdout", "successfully unlocked", "ci@runner-7")
	if got := c.read("airctl.tfstate.lock"); got != "" {
		t.Errorf("lock file still holds %q", got)
	}
	c.stdinTTY = false
	r = c.must(1, "force-unlock", "-force", "dead-beef")
	contains(t, r, "stderr", "failed to unlock state")

	// a live holder's lock cannot be broken locally: stop the process instead
	release := holdLocalLock(t, c)
	defer release()
	r = c.must(1, "plan")
	contains(t, r, "stderr", "held-by-test")
}

// TestInterruptedApply cancels an apply while one create is in flight:
// the create finishes and is saved, nothing new starts, the lock is
// released, and the next apply converges without creating anything twice.
func TestInterruptedApply(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `
resource "test_thing" "a" { name = "a" }
resource "test_thing" "b" { name = "b-${test_thing.a.id}" }
resource "test_thing" "c" { name = "c" }
`)
	gate := c.tp.Block(testprovider.OpCreate, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newSyncBuffer()
	c.stderr = newSyncBuffer()
	done := make(chan result, 1)
	go func() { done <- c.runWith(ctx, nil, out, "apply", "-auto-approve", "-parallelism=1") }()
	first := waitArrival(t, gate)
	if first != "a" {
		t.Fatalf("first create is %q, want a (parallelism 1, a sorts first)", first)
	}
	cancel()
	out.waitFor(t, "test_thing.a: Creating...")
	c.stderr.waitFor(t, "Gracefully shutting down...") // the engine has stopped starting nodes
	gate.Release()
	r := <-done
	if r.code != 1 {
		t.Fatalf("interrupted apply: %s", r)
	}
	contains(t, r, "stderr", "Interrupt received.", "Gracefully shutting down...", "The apply was interrupted")
	contains(t, r, "stdout", "test_thing.a: Creation complete")
	if got := c.addresses(); len(got) != 1 || got[0] != "test_thing.a" {
		t.Fatalf("state after the interruption has %v, want just test_thing.a", got)
	}
	if n := c.tp.World().Len(); n != 1 {
		t.Fatalf("world has %d objects after the interruption, want 1", n)
	}

	c.must(0, "plan", "-lock-timeout=0s") // the lock was released
	r = c.must(0, "apply", "-auto-approve")
	contains(t, r, "stdout", "Apply complete! Resources: 2 added")
	if n := c.tp.CountOps(testprovider.OpCreate); n != 3 {
		t.Errorf("%d creates in all, want 3 (no duplicates)", n)
	}
	c.must(0, "plan", "-detailed-exitcode")
}

// TestSecondInterruptAborts sends two Ctrl-Cs: the blocked create is
// cancelled, the command ends, and the lock is released.
func TestSecondInterruptAborts(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	gate := c.tp.Block(testprovider.OpCreate, "a")
	defer gate.Release()
	interrupts := make(chan struct{}, 2)
	done := make(chan result, 1)
	go func() { done <- c.runWith(context.Background(), interrupts, nil, "apply", "-auto-approve") }()
	waitArrival(t, gate)
	interrupts <- struct{}{}
	interrupts <- struct{}{}
	r := <-done
	if r.code != 1 {
		t.Fatalf("aborted apply: %s", r)
	}
	contains(t, r, "stderr", "Interrupt received.", "Two interrupts received. Exiting immediately.", "interrupted while blocked")
	if c.tp.World().Len() != 0 {
		t.Error("the aborted create still created its object")
	}
	c.must(exitChanges, "plan", "-detailed-exitcode", "-lock-timeout=0s")
}

// TestProgressStillCreating shows the periodic progress line of a long
// operation.
func TestProgressStillCreating(t *testing.T) {
	c := newCLI(t)
	c.progress = time.Millisecond
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	gate := c.tp.Block(testprovider.OpCreate, "a")
	out := newSyncBuffer()
	done := make(chan result, 1)
	go func() { done <- c.runWith(context.Background(), nil, out, "apply", "-auto-approve") }()
	out.waitFor(t, "test_thing.a: Still creating... [")
	gate.Release()
	if r := <-done; r.code != 0 {
		t.Fatal(r)
	}
}

func TestLockReleasedAfterErrors(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `
resource "test_thing" "a" { name = "a" }
resource "test_thing" "b" { name = "b" }
`)
	c.tp.FailCreate("b", 1)
	r := c.must(1, "apply", "-auto-approve")
	contains(t, r, "stderr", "injected failure")
	contains(t, r, "stdout", "test_thing.b: Creation errored after")
	if got := c.addresses(); len(got) != 1 || got[0] != "test_thing.a" {
		t.Errorf("state after a failed apply: %v", got)
	}
	r = c.must(0, "apply", "-auto-approve", "-lock-timeout=0s")
	contains(t, r, "stdout", "1 added")
	if _, err := os.Stat(filepath.Join(c.dir, ".airctl")); err == nil {
		t.Error("apply without init should not create .airctl")
	}
}
