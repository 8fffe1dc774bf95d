package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/airctl/airctl/provision/state"
)

// The lock is an flock(2) on <path>.lock, held through an open file for as
// long as the lock is held. The kernel drops it when the process exits, even
// on SIGKILL or a crash, so a local lock can never be left stale. The holder
// also writes its LockInfo into the file so that a second process can say
// who holds it.
//
// The lock file is never deleted, only emptied on unlock: deleting it would
// let one process lock the old inode while another creates and locks a new
// file, and both would believe they hold the lock.

const lockedHint = "wait for that run to finish (the lock is released when its process exits, even if it crashes)"

type heldLock struct {
	f  *os.File
	id string
}

// Lock takes the lock without waiting; see state.LockWithTimeout.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil {
		holder, _ := readLockInfo(b.held.f)
		return "", &state.LockedError{Info: holder, Hint: "this airctl process already holds it"}
	}
	f, err := b.openLockFile()
	if err != nil {
		return "", err
	}
	ok, err := tryFlock(f)
	if err != nil || !ok {
		defer f.Close()
		return "", b.lockFailure(f, err)
	}
	id, err := b.recordHolder(f, info)
	if err != nil {
		unflock(f)
		f.Close()
		return "", err
	}
	b.held = &heldLock{f: f, id: id}
	return id, nil
}

func (b *Backend) openLockFile() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(b.LockPath()), 0o755); err != nil {
		return nil, fmt.Errorf("state lock: %w", err)
	}
	f, err := os.OpenFile(b.LockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state lock: open %s: %w", b.LockPath(), err)
	}
	return f, nil
}

func (b *Backend) lockFailure(f *os.File, err error) error {
	if err != nil {
		return fmt.Errorf("state lock: flock %s: %w", b.LockPath(), err)
	}
	holder, rerr := readLockInfo(f)
	if rerr != nil {
		// The holder may be between taking the flock and writing its info.
		holder = state.LockInfo{Who: "another process (it has not recorded its details yet)", Path: b.path}
	}
	return &state.LockedError{Info: holder, Hint: lockedHint}
}

func (b *Backend) recordHolder(f *os.File, info state.LockInfo) (string, error) {
	if info.ID == "" {
		info.ID = uuid.NewString()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC()
	}
	info.Path = b.path
	data, err := json.Marshal(info)
	if err != nil {
		return "", err
	}
	if err := writeLockInfo(f, data); err != nil {
		return "", fmt.Errorf("state lock: record holder in %s: %w", b.LockPath(), err)
	}
	return info.ID, nil
}

// Unlock releases a lock this Backend holds.
func (b *Backend) Unlock(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return fmt.Errorf("unlock %s: %w by this process", b.LockPath(), state.ErrNotLocked)
	}
	if b.held.id != id {
		return fmt.Errorf("unlock %s: %w: held with ID %s, not %s", b.LockPath(), state.ErrLockIDMismatch, b.held.id, id)
	}
	return b.release()
}

func (b *Backend) release() error {
	f := b.held.f
	b.held = nil
	terr := writeLockInfo(f, nil) // stop naming a holder that has gone
	uerr := unflock(f)
	cerr := f.Close() // closing drops the flock even if unflock failed
	if err := errors.Join(terr, uerr, cerr); err != nil {
		return fmt.Errorf("unlock %s: %w", b.LockPath(), err)
	}
	return nil
}

// ForceUnlock can only clear what a dead process left behind: a live
// process's flock cannot be broken from outside, and it does not need to be,
// because the kernel releases it when that process exits.
func (b *Backend) ForceUnlock(ctx context.Context, id string) (*state.LockInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil && b.held.id == id {
		holder, _ := readLockInfo(b.held.f)
		return &holder, b.release()
	}
	f, err := b.openLockFile()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ok, err := tryFlock(f)
	if err != nil || !ok {
		return nil, fmt.Errorf("cannot force-unlock: %w; a local lock cannot be broken while its process runs: stop that process instead", b.lockFailure(f, err))
	}
	defer unflock(f)
	return clearStale(f, id, b.LockPath())
}

// clearStale removes the details a crashed holder left in the lock file.
func clearStale(f *os.File, id, path string) (*state.LockInfo, error) {
	holder, err := readLockInfo(f)
	if err != nil {
		return nil, fmt.Errorf("force-unlock %s: %w (no process holds it)", path, state.ErrNotLocked)
	}
	if holder.ID != id {
		return nil, fmt.Errorf("force-unlock %s: %w: the lock file names ID %s (%s), not %s; no process holds the lock anyway",
			path, state.ErrLockIDMismatch, holder.ID, holder.Who, id)
	}
	return &holder, writeLockInfo(f, nil)
}

func readLockInfo(f *os.File) (state.LockInfo, error) {
	var info state.LockInfo
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil {
		return info, err
	}
	if len(data) == 0 {
		return info, errors.New("lock file is empty")
	}
	return info, json.Unmarshal(data, &info)
}

func writeLockInfo(f *os.File, data []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}
