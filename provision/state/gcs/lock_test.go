package gcs

import (
	"errors"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision/state"
)

// A process that crashed while holding the lock leaves the lock object; the
// next run is refused with the holder's details and force-unlock clears it.
func TestCrashedHolderAndForceUnlock(t *testing.T) {
	f := newFakeGCS(t, false)
	crashed := newBackend(t, f, "p")
	info := state.NewLockInfo("apply", "1.0.0")
	info.Who = "ci@runner-7"
	crashedID, err := crashed.Lock(t.Context(), info)
	if err != nil {
		t.Fatal(err)
	}
	// crashed is abandoned here: no Unlock ever runs.

	b := newBackend(t, f, "p")
	_, err = b.Lock(t.Context(), state.NewLockInfo("plan", "1.0.0"))
	var le *state.LockedError
	if !errors.As(err, &le) || le.Info.ID != crashedID || le.Info.Who != "ci@runner-7" || le.Info.Operation != "apply" {
		t.Fatalf("Lock = %v, want LockedError naming ci@runner-7 and ID %s", err, crashedID)
	}
	if !strings.Contains(err.Error(), "airctl force-unlock") || !strings.Contains(le.Info.Path, "gs://"+testBucket+"/p/default.tfstate") {
		t.Fatalf("LockedError should tell how to force-unlock and name the state: %v (%s)", err, le.Info.Path)
	}

	if _, err := b.ForceUnlock(t.Context(), "1"); !errors.Is(err, state.ErrLockIDMismatch) || !strings.Contains(err.Error(), "ci@runner-7") {
		t.Fatalf("ForceUnlock with a wrong ID = %v, want a mismatch naming the holder", err)
	}
	removed, err := b.ForceUnlock(t.Context(), crashedID)
	if err != nil || removed.Who != "ci@runner-7" || removed.ID != crashedID {
		t.Fatalf("ForceUnlock = %+v, %v", removed, err)
	}
	if _, err := b.ForceUnlock(t.Context(), crashedID); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("second ForceUnlock = %v, want ErrNotLocked", err)
	}
	id, err := b.Lock(t.Context(), state.NewLockInfo("plan", "1.0.0"))
	if err != nil {
		t.Fatalf("Lock after force-unlock: %v", err)
	}
	// The crashed process's old ID must not release the new lock.
	if err := crashed.Unlock(t.Context(), crashedID); !errors.Is(err, state.ErrLockIDMismatch) {
		t.Fatalf("Unlock with the old ID = %v", err)
	}
	if err := b.Unlock(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// A stale lock ID must not delete a newer lock even if the old lock object
// was replaced (same name, new generation).
func TestUnlockOldIDKeepsNewLock(t *testing.T) {
	f := newFakeGCS(t, false)
	a, b := newBackend(t, f, "p"), newBackend(t, f, "p")
	oldID, err := a.Lock(t.Context(), state.NewLockInfo("apply", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceUnlock(t.Context(), oldID); err != nil {
		t.Fatal(err)
	}
	newID, err := b.Lock(t.Context(), state.NewLockInfo("apply", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Unlock(t.Context(), oldID); !errors.Is(err, state.ErrLockIDMismatch) {
		t.Fatalf("Unlock with the old ID = %v, want ErrLockIDMismatch", err)
	}
	if err := b.Unlock(t.Context(), newID); err != nil {
		t.Fatalf("the new lock should still be there: %v", err)
	}
}
