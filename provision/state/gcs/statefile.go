package gcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/storage"

	"github.com/airctl/airctl/provision/state"
)

// Read returns the stored state (nil, nil when there is none) and remembers
// its generation for the next Write.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	snap, err := b.fetch(ctx)
	if err != nil {
		return nil, err
	}
	b.last = snap
	return snap.state.DeepCopy(), nil
}

func (b *Backend) fetch(ctx context.Context) (*snapshot, error) {
	data, gen, err := b.get(ctx, b.stateName)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return &snapshot{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", b.StateURL(), err)
	}
	snap := &snapshot{gen: gen}
	if len(data) == 0 {
		return snap, nil
	}
	if snap.state, err = state.Decode(data); err != nil {
		return nil, fmt.Errorf("read state %s (generation %d): %w; earlier versions are kept if the bucket has object versioning on", b.StateURL(), gen, err)
	}
	return snap, nil
}

// Write stores s if it differs from the state this Backend last read or
// wrote, and only if the object is still at that generation.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		if err := b.refresh(ctx); err != nil {
			return err
		}
	}
	return b.write(ctx, s, false)
}

// ForceWrite reads the current object and replaces it with s whatever its
// lineage and serial; the generation precondition still keeps a concurrent
// writer's change from being lost silently.
func (b *Backend) ForceWrite(ctx context.Context, s *state.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.refresh(ctx); err != nil {
		return err
	}
	return b.write(ctx, s, true)
}

func (b *Backend) refresh(ctx context.Context) error {
	snap, err := b.fetch(ctx)
	if err == nil {
		b.last = snap
	}
	return err
}

func (b *Backend) write(ctx context.Context, s *state.State, force bool) error {
	next, err := state.Prepare(b.last.state, s, force)
	if err != nil {
		return fmt.Errorf("write state %s: %w", b.StateURL(), err)
	}
	if next == nil {
		state.Committed(s, nil, b.last.state)
		return nil
	}
	data, err := state.Encode(next)
	if err != nil {
		return err
	}
	gen, err := b.put(ctx, b.stateName, b.writeCond(), data)
	switch {
	case isPrecondition(err):
		if gen, err = b.afterConflict(ctx, data); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("write state %s: %w; the state was not saved: check access to the bucket and run the command again (resources changed by this run are not recorded yet)", b.StateURL(), err)
	}
	b.last = &snapshot{state: next, gen: gen}
	state.Committed(s, next, nil)
	return nil
}

// writeCond: create only if still absent, replace only the generation read.
func (b *Backend) writeCond() storage.Conditions {
	if b.last.gen == 0 {
		return storage.Conditions{DoesNotExist: true}
	}
	return storage.Conditions{GenerationMatch: b.last.gen}
}

// afterConflict tells a lost race from a retry that hit its own earlier
// success (the first attempt landed but its response was lost): in the latter
// case the object holds exactly the bytes we wrote.
func (b *Backend) afterConflict(ctx context.Context, data []byte) (int64, error) {
	cur, gen, err := b.get(ctx, b.stateName)
	if err == nil && bytes.Equal(cur, data) {
		return gen, nil
	}
	now := "deleted"
	if err == nil {
		now = fmt.Sprintf("at generation %d", gen)
	}
	return 0, fmt.Errorf("write state %s: %w: the object changed after this run read it (read generation %d, now %s), so another process wrote state; nothing was written. Make sure every run takes the state lock, then run the command again so it starts from the current state",
		b.StateURL(), state.ErrStale, b.last.gen, now)
}
