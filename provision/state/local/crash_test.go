package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision/state"
)

// helperEnv makes the test binary act as a second airctl process that takes
// the lock and then waits to be killed.
const helperEnv = "AIRCTL_STATE_LOCK_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(lockHelper(path))
	}
	os.Exit(m.Run())
}

func lockHelper(path string) int {
	b, err := New(path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	info := state.NewLockInfo("apply", "0.0.0-helper")
	info.Who = "crashy@helper"
	id, err := b.Lock(context.Background(), info)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked", id)
	io.Copy(io.Discard, os.Stdin) // hold the lock until killed
	return 0
}

// startHolder runs the helper and returns once it holds the lock.
func startHolder(t *testing.T, path string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdin, _ := cmd.StdinPipe() // never written: the helper blocks on it
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "locked ")
	if err != nil || !ok {
		t.Fatalf("helper did not take the lock: %q, %v", line, err)
	}
	return cmd, id
}

// A process that dies holding the lock (SIGKILL: no deferred unlock runs)
// must not leave the state locked: the kernel drops its flock.
func TestCrashedHolderReleasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultFile)
	cmd, helperID := startHolder(t, path)
	b := mustNew(t, path)

	_, err := b.Lock(t.Context(), state.NewLockInfo("plan", "1.0.0"))
	var le *state.LockedError
	if !errors.As(err, &le) || le.Info.Who != "crashy@helper" || le.Info.ID != helperID {
		t.Fatalf("Lock while another process holds it = %v, want LockedError naming crashy@helper %s", err, helperID)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() // the process is gone, and with it its flock

	id, err := b.Lock(t.Context(), state.NewLockInfo("plan", "1.0.0"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if err := b.Unlock(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// force-unlock of a crashed holder's ID just clears its leftover details.
func TestForceUnlockCrashedHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultFile)
	cmd, helperID := startHolder(t, path)
	cmd.Process.Kill()
	cmd.Wait()

	b := mustNew(t, path)
	if _, err := b.ForceUnlock(t.Context(), "wrong"); !errors.Is(err, state.ErrLockIDMismatch) {
		t.Fatalf("ForceUnlock with a wrong ID = %v", err)
	}
	info, err := b.ForceUnlock(t.Context(), helperID)
	if err != nil || info.Who != "crashy@helper" {
		t.Fatalf("ForceUnlock of the crashed holder = %+v, %v", info, err)
	}
	if data, _ := os.ReadFile(b.LockPath()); len(data) != 0 {
		t.Fatalf("stale holder details left: %s", data)
	}
}
