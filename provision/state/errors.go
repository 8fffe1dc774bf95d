package state

import "errors"

// Sentinel errors. Backends wrap them with details (which object, which
// generation, who holds the lock), so test with errors.Is.
var (
	// ErrLineageMismatch: the state being written is not a descendant of the
	// stored one (a different configuration, or the wrong backend settings).
	ErrLineageMismatch = errors.New("state lineage does not match the stored state")
	// ErrStale: the stored state changed since it was read (another process
	// wrote a newer state), so writing would lose that change.
	ErrStale = errors.New("stored state is newer than the state being written")
	// ErrNotLocked: Unlock or ForceUnlock found no lock to release.
	ErrNotLocked = errors.New("state is not locked")
	// ErrLockIDMismatch: the lock ID given does not name the current lock.
	ErrLockIDMismatch = errors.New("lock ID does not match the current state lock")
)
