package command

import (
	"fmt"
	"time"
)

const forceUnlockUsage = `Usage: airctl [global options] force-unlock [options] LOCK_ID

  Removes the state lock with LOCK_ID, whoever holds it. Use it only when
  the run holding the lock is certainly gone (a crashed laptop, a killed
  CI job): breaking the lock of a running apply lets two runs write the
  state at once. The ID is in the error of the command that found the
  state locked.

Options:
  -force     Do not ask for confirmation.
`

func runForceUnlock(m *meta, args []string) int {
	fs := m.flagSet()
	force := fs.Bool("force", false, "do not ask for confirmation")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return m.usageError("force-unlock needs the lock ID")
	}
	id := fs.Arg(0)
	if !*force {
		if !m.env.StdinTTY {
			return m.fail(fmt.Errorf("force-unlock needs confirmation, but stdin is not a terminal: pass -force if you are sure the lock holder is gone"))
		}
		fmt.Fprintf(m.stdout, "%s\n\n  Enter a value: ", m.opts().Bold("Do you really want to force-unlock?\n  airctl will remove the lock on the remote state.\n  This will allow local airctl commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm."))
		answer, err := m.readLine(m.ctx)
		fmt.Fprintln(m.stdout)
		if err != nil || answer != "yes" {
			return m.fail(fmt.Errorf("force-unlock cancelled"))
		}
	}
	cfg := m.loadConfig()
	if cfg == nil {
		return exitError
	}
	b, err := m.backend(cfg)
	if err != nil {
		return m.fail(err)
	}
	defer b.close()
	info, err := b.ForceUnlock(m.ctx, id)
	if err != nil {
		return m.fail(fmt.Errorf("failed to unlock state: %w", err))
	}
	fmt.Fprintln(m.stdout, m.opts().Bold("airctl state has been successfully unlocked!"))
	if info != nil {
		fmt.Fprintf(m.stdout, "\nThe lock was held by %s (operation %q, since %s).\n", info.Who, info.Operation, info.Created.Format(time.RFC3339))
	}
	fmt.Fprintln(m.stdout, "\nThe state has been unlocked, and airctl commands should now be able to obtain a new lock on the remote state.")
	return exitOK
}
