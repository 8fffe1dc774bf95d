package state

import (
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/google/uuid"
)

// LockInfo describes a state lock holder. The JSON field names are
// Terraform's, so people who read lock objects by hand see the familiar shape.
type LockInfo struct {
	// ID is the lock ID that Unlock and `airctl force-unlock` take. Backends
	// choose it (gcs: the lock object's generation); a value passed to Lock is
	// only a nonce.
	ID        string    `json:"ID"`
	Operation string    `json:"Operation"` // apply, plan, destroy, state mv, ...
	Info      string    `json:"Info,omitempty"`
	Who       string    `json:"Who"` // user@host
	Version   string    `json:"Version"`
	Created   time.Time `json:"Created"`
	Path      string    `json:"Path"` // the locked state's location
}

// NewLockInfo fills Who, Created and a fresh ID for the running process.
func NewLockInfo(operation, airctlVersion string) LockInfo {
	return LockInfo{
		ID:        uuid.NewString(),
		Operation: operation,
		Who:       whoAmI(),
		Version:   airctlVersion,
		Created:   time.Now().UTC().Truncate(time.Second),
	}
}

func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return name + "@" + host
}

// LockedError is returned by Lock when someone else holds the lock.
type LockedError struct {
	Info LockInfo
	// Hint tells the user how to get the lock; backends set it because the
	// remedy differs (a local lock dies with its process, a GCS lock object
	// must be force-unlocked).
	Hint string
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("state is locked by %s (operation %q, lock ID %s, since %s, airctl %s, %s)",
		e.Info.Who, e.Info.Operation, e.Info.ID, e.Info.Created.Format(time.RFC3339), e.Info.Version, e.Info.Path)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}
