// Package local stores state in a file next to the configuration, like
// Terraform's default backend, with a backup of the previous version and an
// OS-level (flock) lock.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/airctl/airctl/provision/state"
)

// DefaultFile is the state file name in the configuration directory.
const DefaultFile = "airctl.tfstate"

// Path returns where a workspace's state lives under the configuration
// directory dir: dir/airctl.tfstate for "default" (or ""), otherwise
// dir/airctl.tfstate.d/WORKSPACE/airctl.tfstate, as Terraform lays it out.
func Path(dir, workspace string) string {
	if workspace == "" || workspace == "default" {
		return filepath.Join(dir, DefaultFile)
	}
	return filepath.Join(dir, DefaultFile+".d", workspace, DefaultFile)
}

// Backend is a state file with <path>.backup and <path>.lock beside it.
type Backend struct {
	path string
	// mu serialises this process's Lock/Unlock/Write calls on the Backend;
	// other processes are kept out by the flock.
	mu   sync.Mutex
	held *heldLock
	// written is the file as this Backend last wrote it, decoded, so the
	// next Write can skip decoding when the file is unchanged (decoding a
	// large state on every resource operation adds up).
	written *fileSnapshot
}

type fileSnapshot struct {
	data  []byte
	state *state.State
}

// New returns a backend for the state file at path (see Path).
func New(path string) (*Backend, error) {
	if path == "" {
		return nil, errors.New("local state backend: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("local state backend: %w", err)
	}
	return &Backend{path: abs}, nil
}

// StatePath is the state file's path.
func (b *Backend) StatePath() string { return b.path }

// BackupPath holds the version before the last write.
func (b *Backend) BackupPath() string { return b.path + ".backup" }

// LockPath is the file that is flocked and holds the holder's LockInfo.
func (b *Backend) LockPath() string { return b.path + ".lock" }

// Read returns the stored state, or nil when the file does not exist or is
// empty (Terraform treats an empty state file as "no state" too).
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	_, s, err := b.read()
	return s, err
}

func (b *Backend) read() ([]byte, *state.State, error) {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read state: %w", err)
	}
	s, err := state.Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("read state %s: %w (the previous version is in %s)", b.path, err, b.BackupPath())
	}
	return data, s, nil
}

// Write stores s under the shared write rules, comparing against the file as
// it is now (not as it was when this process read it), so a newer state
// written by another run is detected by its serial.
func (b *Backend) Write(ctx context.Context, s *state.State) error {
	return b.write(s, false)
}

// ForceWrite stores s whatever its lineage and serial.
func (b *Backend) ForceWrite(ctx context.Context, s *state.State) error {
	return b.write(s, true)
}

func (b *Backend) write(s *state.State, force bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, stored, err := b.readForWrite()
	if err != nil {
		return err
	}
	snap, err := state.Prepare(stored, s, force)
	if err != nil {
		return fmt.Errorf("write state %s: %w", b.path, err)
	}
	if snap != nil {
		data, err := b.store(old, snap)
		if err != nil {
			return err
		}
		b.written = &fileSnapshot{data: data, state: snap}
	}
	state.Committed(s, snap, stored)
	return nil
}

// store writes the backup first and the new state second, each atomically,
// so the state file is never missing or half-written, and after a crash
// between the two the backup is simply the current version.
func (b *Backend) store(old []byte, snap *state.State) ([]byte, error) {
	data, err := state.Encode(snap)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if old != nil {
		if err := writeAtomic(b.BackupPath(), old); err != nil {
			return nil, fmt.Errorf("write state backup: %w", err)
		}
	}
	if err := writeAtomic(b.path, data); err != nil {
		return nil, fmt.Errorf("write state %s: %w; the previous version is in %s", b.path, err, b.BackupPath())
	}
	return data, nil
}

// readForWrite reads the file and decodes it unless it is still exactly what
// this Backend wrote last. The bytes are always read, so a change by another
// process is always seen.
func (b *Backend) readForWrite() ([]byte, *state.State, error) {
	data, err := os.ReadFile(b.path)
	if err == nil && b.written != nil && bytes.Equal(data, b.written.data) {
		return data, b.written.state, nil
	}
	return b.read()
}

var _ state.Backend = (*Backend)(nil)
