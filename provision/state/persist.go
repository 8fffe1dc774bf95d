package state

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Prepare applies the write rules every backend shares (after Terraform's
// remote state persist) to next, given what the backend holds (nil: nothing
// yet). It returns the snapshot to store, or nil when nothing needs writing.
//
//   - first write: lineage gets a new UUID unless next has one (a migrated
//     state keeps its identity), serial is at least 1;
//   - a different lineage is refused (unless force, which stores next's
//     lineage): it is another configuration's state, and overwriting it would
//     orphan its resources; an empty lineage continues the stored one;
//   - equal content (Equal: serial ignored): nothing is written, so a no-op
//     apply leaves serial alone and saved plans stay valid;
//   - a lower serial is refused (unless force): someone wrote newer state;
//   - otherwise serial becomes stored serial + 1.
func Prepare(stored, next *State, force bool) (*State, error) {
	if next == nil {
		return nil, errors.New("cannot write a nil state")
	}
	snap := next.DeepCopy()
	snap.Version = FormatVersion
	if stored == nil {
		if snap.Lineage == "" {
			snap.Lineage = uuid.NewString()
		}
		snap.Serial = max(snap.Serial, 1)
		return snap, nil
	}
	if snap.Lineage == "" {
		snap.Lineage = stored.Lineage
	}
	if snap.Lineage != stored.Lineage && !force {
		return nil, fmt.Errorf("%w: stored lineage %s, writing %s. This state belongs to another configuration or backend: check the backend settings, or replace the stored state on purpose with `airctl state push -force`",
			ErrLineageMismatch, stored.Lineage, next.Lineage)
	}
	if Equal(stored, snap) {
		return nil, nil
	}
	if snap.Serial < stored.Serial && !force {
		return nil, fmt.Errorf("%w: stored serial %d, writing serial %d. Another airctl run wrote state after this one read it: run the command again so it starts from the current state",
			ErrStale, stored.Serial, snap.Serial)
	}
	snap.Serial = stored.Serial + 1
	return snap, nil
}

// Committed records in next what a backend stored (snap) or, when nothing
// was written, what it holds (stored), so the caller's serial and lineage
// follow the backend's.
func Committed(next, snap, stored *State) {
	src := snap
	if src == nil {
		src = stored
	}
	if src != nil {
		next.Serial, next.Lineage, next.Version = src.Serial, src.Lineage, src.Version
	}
}
