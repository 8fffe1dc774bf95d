package state

import "context"

// Backend stores one workspace's state and its lock.
//
// Callers take the lock for the whole of a command that writes state and
// write after every completed resource operation. Write updates the Serial and
// Lineage of the state passed to it to what was stored, so the caller can keep
// writing the same *State.
type Backend interface {
	// Lock takes the state lock and returns its ID. If someone holds it,
	// Lock returns a *LockedError naming the holder and does not wait (see
	// LockWithTimeout).
	Lock(ctx context.Context, info LockInfo) (string, error)
	// Unlock releases the lock taken with id.
	Unlock(ctx context.Context, id string) error
	// ForceUnlock removes the lock with this ID whoever holds it (for
	// `airctl force-unlock ID`) and returns what it removed, so the command can
	// say whose lock it broke.
	ForceUnlock(ctx context.Context, id string) (*LockInfo, error)
	// Read returns the stored state, or nil, nil when none exists yet.
	Read(ctx context.Context) (*State, error)
	// Write stores s following Prepare's rules: nothing is written when s
	// equals the stored state; otherwise serial is the stored serial + 1.
	Write(ctx context.Context, s *State) error
	// ForceWrite stores s even if its lineage differs or its serial is older
	// (`airctl state push -force`).
	ForceWrite(ctx context.Context, s *State) error
}
