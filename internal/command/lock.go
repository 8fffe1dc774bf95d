package command

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/airctl/airctl/provision/state"
)

// lockFlags are -lock and -lock-timeout, shared by every command that
// writes state.
type lockFlags struct {
	enabled bool
	timeout time.Duration
}

func (l *lockFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.enabled, "lock", true, "hold the state lock")
	fs.DurationVar(&l.timeout, "lock-timeout", 0, "how long to wait for the state lock")
}

// lock takes the state lock for operation, waiting up to -lock-timeout
// (ctx ends the wait early: Ctrl-C). The returned unlock must be called on
// every path; it releases the lock even after Ctrl-C and says how to
// recover if that fails.
func (m *meta) lock(ctx context.Context, b state.Backend, operation string, lf lockFlags) (unlock func(), err error) {
	if !lf.enabled {
		return func() {}, nil
	}
	id, err := state.LockWithTimeout(ctx, b, state.NewLockInfo(operation, m.env.version()), lf.timeout)
	if err != nil {
		return nil, fmt.Errorf("acquiring the state lock: %w\n\nairctl locks the state so that two runs never write it at once. Wait for the other run, retry with -lock-timeout=DURATION to wait for it, or, if it is certainly not running any more, remove its lock with \"airctl force-unlock LOCK_ID\"", err)
	}
	return func() {
		// Released with a context of its own: a cancelled command must
		// still give the lock back.
		if err := b.Unlock(context.WithoutCancel(m.ctx), id); err != nil {
			m.showError(fmt.Errorf("releasing the state lock: %w\n\nThe lock is still held (ID %s). Once you are sure no airctl run is using this state, remove it with \"airctl force-unlock %s\"", err, id, id))
		}
	}, nil
}
