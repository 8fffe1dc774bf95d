package local

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/statetest"
)

func newPair(t *testing.T) (state.Backend, state.Backend) {
	path := filepath.Join(t.TempDir(), DefaultFile)
	return mustNew(t, path), mustNew(t, path)
}

func mustNew(t *testing.T, path string) *Backend {
	t.Helper()
	b, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackendSuite(t *testing.T) { statetest.Run(t, newPair) }

func TestPath(t *testing.T) {
	if got := Path("/cfg", "default"); got != "/cfg/airctl.tfstate" {
		t.Errorf("default workspace: %s", got)
	}
	if got := Path("/cfg", "staging"); got != "/cfg/airctl.tfstate.d/staging/airctl.tfstate" {
		t.Errorf("staging workspace: %s", got)
	}
}

func TestBackupKeepsPreviousVersion(t *testing.T) {
	dir := t.TempDir()
	b := mustNew(t, Path(dir, "staging")) // also checks the directory is created
	s := statetest.Sample()
	if err := b.Write(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.BackupPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("first write made a backup (%v); there was nothing to back up", err)
	}
	first, _ := os.ReadFile(b.StatePath())
	statetest.Touch(s, "second")
	if err := b.Write(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	backup, _ := os.ReadFile(b.BackupPath())
	if !bytes.Equal(backup, first) {
		t.Fatalf("backup is not the previous version:\n%s", backup)
	}
	assertNoTempFiles(t, filepath.Dir(b.StatePath()))
	if fi, _ := os.Stat(b.StatePath()); fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600 (it holds secrets)", fi.Mode().Perm())
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestReadCorruptNamesBackup(t *testing.T) {
	b := mustNew(t, filepath.Join(t.TempDir(), DefaultFile))
	if err := os.WriteFile(b.StatePath(), []byte("{half a state"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := b.Read(t.Context())
	if err == nil || !strings.Contains(err.Error(), b.BackupPath()) {
		t.Fatalf("Read of a corrupt file = %v, want an error naming the backup", err)
	}
	if err := os.WriteFile(b.StatePath(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Read(t.Context()); s != nil || err != nil {
		t.Fatalf("an empty state file should read as no state, got %v, %v", s, err)
	}
}

func TestLockFileNamesHolderAndIsClearedOnUnlock(t *testing.T) {
	b := mustNew(t, filepath.Join(t.TempDir(), DefaultFile))
	info := state.NewLockInfo("apply", "1.0.0")
	id, err := b.Lock(t.Context(), info)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(b.LockPath())
	if !strings.Contains(string(data), info.Who) || !strings.Contains(string(data), id) {
		t.Fatalf("lock file does not name the holder: %s", data)
	}
	if err := b.Unlock(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(b.LockPath()); len(data) != 0 {
		t.Fatalf("lock file still names a holder after unlock: %s", data)
	}
	if _, err := os.Stat(b.LockPath()); err != nil {
		t.Fatalf("lock file must stay (deleting it races with other lockers): %v", err)
	}
}

func TestForceUnlockOwnLock(t *testing.T) {
	b := mustNew(t, filepath.Join(t.TempDir(), DefaultFile))
	id, err := b.Lock(t.Context(), state.NewLockInfo("apply", "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := b.ForceUnlock(t.Context(), id)
	if err != nil || info.ID != id || info.Operation != "apply" {
		t.Fatalf("ForceUnlock = %+v, %v", info, err)
	}
	if _, err := b.ForceUnlock(t.Context(), id); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("ForceUnlock of a free lock = %v, want ErrNotLocked", err)
	}
}

func TestForceUnlockCannotBreakLiveHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultFile)
	holder, other := mustNew(t, path), mustNew(t, path)
	id, err := holder.Lock(t.Context(), state.NewLockInfo("apply", "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock(t.Context(), id)
	_, err = other.ForceUnlock(t.Context(), id)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Info.ID != id || !strings.Contains(err.Error(), "stop that process") {
		t.Fatalf("ForceUnlock of a live lock = %v", err)
	}
}
