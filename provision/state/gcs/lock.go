package gcs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/storage"
	"github.com/google/uuid"

	"github.com/airctl/airctl/provision/state"
)

// The lock is the object <prefix>/<workspace>.tflock, created with a
// DoesNotExist precondition so that of two concurrent creators exactly one
// succeeds. Its body is the holder's LockInfo and the lock ID is the object's
// generation, as in Terraform: Unlock deletes with a GenerationMatch on it, so
// an old ID can never remove a newer lock. A process that dies while holding
// the lock leaves the object behind; `airctl force-unlock ID` removes it.

// lockedHint names the exact command: a lock left by a killed run stays
// until someone removes it.
func lockedHint(id string) string {
	return "wait for that run to finish; if it is no longer running (crashed, killed, cancelled CI job), remove the lock with: airctl force-unlock " + id + " (add -force to skip the confirmation, as in CI)"
}

// lockAttempts bounds the create/inspect loop in Lock; it only repeats when
// the lock vanishes between a failed create and reading the holder.
const lockAttempts = 3

// Lock creates the lock object. info.ID, if set, is kept in the object as a
// nonce (a fresh UUID otherwise); the returned ID is the generation.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo) (string, error) {
	info = b.fillLockInfo(info)
	data, err := json.Marshal(info)
	if err != nil {
		return "", err
	}
	for range lockAttempts {
		gen, err := b.put(ctx, b.lockName, storage.Conditions{DoesNotExist: true}, data)
		if err == nil {
			return strconv.FormatInt(gen, 10), nil
		}
		if !isPrecondition(err) {
			return "", fmt.Errorf("take state lock %s: %w", b.LockURL(), err)
		}
		holder, nonce, err := b.lockHolder(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			continue // released between our create and our read: try again
		}
		if err != nil {
			return "", fmt.Errorf("state is locked (%s) and its holder could not be read: %w", b.LockURL(), err)
		}
		if nonce == info.ID {
			// A retried create whose first attempt succeeded: the lock is ours.
			return holder.ID, nil
		}
		return "", &state.LockedError{Info: holder, Hint: lockedHint(holder.ID)}
	}
	return "", fmt.Errorf("take state lock %s: the lock kept changing hands; try again", b.LockURL())
}

func (b *Backend) fillLockInfo(info state.LockInfo) state.LockInfo {
	if info.ID == "" {
		info.ID = uuid.NewString()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC()
	}
	info.Path = b.StateURL()
	return info
}

// lockHolder reads the lock object. The returned info's ID is the object's
// generation, the ID force-unlock needs; nonce is the ID stored in the body.
func (b *Backend) lockHolder(ctx context.Context) (state.LockInfo, string, error) {
	data, gen, err := b.get(ctx, b.lockName)
	if err != nil {
		return state.LockInfo{}, "", err
	}
	var info state.LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		// Still a lock: name it by generation so it can be force-unlocked.
		info = state.LockInfo{Who: "unknown (the lock object is not valid LockInfo JSON)", Path: b.StateURL()}
	}
	nonce := info.ID
	info.ID = strconv.FormatInt(gen, 10)
	return info, nonce, nil
}

// Unlock deletes the lock object if it is still the one taken with id.
func (b *Backend) Unlock(ctx context.Context, id string) error {
	gen, err := b.parseLockID(id, "unlock")
	if err != nil {
		return err
	}
	return b.deleteLock(ctx, gen, id, "unlock")
}

// ForceUnlock deletes the lock object with generation id, whoever created it,
// and returns its holder's details.
func (b *Backend) ForceUnlock(ctx context.Context, id string) (*state.LockInfo, error) {
	gen, err := b.parseLockID(id, "force-unlock")
	if err != nil {
		return nil, err
	}
	holder, _, err := b.lockHolder(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		holder = state.LockInfo{ID: id, Path: b.StateURL()} // unreadable: still removable
	}
	if err := b.deleteLock(ctx, gen, id, "force-unlock"); err != nil {
		return nil, err
	}
	return &holder, nil
}

func (b *Backend) parseLockID(id, verb string) (int64, error) {
	gen, err := strconv.ParseInt(id, 10, 64)
	if err != nil || gen <= 0 {
		return 0, fmt.Errorf("%s %s: %w: %q is not a gcs lock ID (the lock object's generation, a number such as 1712345678901234)",
			verb, b.LockURL(), state.ErrLockIDMismatch, id)
	}
	return gen, nil
}

// deleteLock removes the lock object only at generation gen.
func (b *Backend) deleteLock(ctx context.Context, gen int64, id, verb string) error {
	cctx, cancel := b.callContext(ctx)
	defer cancel()
	err := b.object(b.lockName).If(storage.Conditions{GenerationMatch: gen}).Delete(cctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrObjectNotExist):
		return fmt.Errorf("%s %s: %w (already released, or removed with force-unlock)", verb, b.LockURL(), state.ErrNotLocked)
	case isPrecondition(err):
		return b.mismatch(ctx, verb, id)
	}
	return fmt.Errorf("%s %s: %w", verb, b.LockURL(), err)
}

func (b *Backend) mismatch(ctx context.Context, verb, id string) error {
	holder, _, err := b.lockHolder(ctx)
	if err != nil {
		return fmt.Errorf("%s %s: %w: lock ID %s is not the current lock", verb, b.LockURL(), state.ErrLockIDMismatch, id)
	}
	return fmt.Errorf("%s %s: %w: lock ID %s is not the current lock, which is ID %s held by %s (operation %q since %s)",
		verb, b.LockURL(), state.ErrLockIDMismatch, id, holder.ID, holder.Who, holder.Operation, holder.Created.Format(time.RFC3339))
}
