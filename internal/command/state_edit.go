package command

import (
	"fmt"
	"io"
	"os"

	"github.com/airctl/airctl/provision/state"
)

// editState runs edit on the stored state under the lock and writes the
// result; edit returns a summary line, or an error to write nothing.
func (m *meta) editState(lf lockFlags, edit func(st *state.State) (string, error)) int {
	cfg := m.loadConfig()
	if cfg == nil {
		return exitError
	}
	b, err := m.backend(cfg)
	if err != nil {
		return m.fail(err)
	}
	defer b.close()
	s := m.interruptible()
	defer s.release()
	unlock, err := m.lock(s.ctx, b, m.name, lf)
	if err != nil {
		return m.fail(err)
	}
	defer unlock()
	st, err := b.Read(s.ctx)
	if err != nil {
		return m.fail(fmt.Errorf("read the state: %w", err))
	}
	if st == nil {
		return m.fail(fmt.Errorf("there is no state yet in %s, so there is nothing to change", b.where))
	}
	summary, err := edit(st)
	if err != nil {
		return m.fail(err)
	}
	if err := b.Write(s.ctx, st); err != nil {
		return m.fail(fmt.Errorf("write the state: %w", err))
	}
	fmt.Fprintln(m.stdout, summary)
	return exitOK
}

const stateRmUsage = `Usage: airctl [global options] state rm [options] ADDR...

  Removes instances from the state: airctl forgets them, the real objects
  keep existing. A resource address without an index removes all of its
  instances.

Options:
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
`

func runStateRm(m *meta, args []string) int {
	fs := m.flagSet()
	var lf lockFlags
	lf.register(fs)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return m.usageError("state rm needs at least one address")
	}
	addrs, err := parseAddrs(fs.Args())
	if err != nil {
		return m.usageError("%v", err)
	}
	return m.editState(lf, func(st *state.State) (string, error) {
		removed, report := 0, ""
		for _, a := range addrs {
			n := removeMatching(st, a)
			if n == 0 {
				return "", noInstance(st, a)
			}
			removed += n
			report += fmt.Sprintf("Removed %s\n", a)
		}
		return report + fmt.Sprintf("Successfully removed %d resource instance(s).", removed), nil
	})
}

// removeMatching removes the instance a names, or all instances of its
// resource when a has no index and names no single no-key instance.
func removeMatching(st *state.State, a state.Address) int {
	r := st.Resource(a)
	if r == nil {
		return 0
	}
	if a.Key.IsZero() {
		n := len(r.Instances)
		st.RemoveResource(a)
		return n
	}
	if st.RemoveInstance(a) {
		return 1
	}
	return 0
}

const stateMvUsage = `Usage: airctl [global options] state mv [options] SRC DST

  Records an instance or a whole resource under a new address, e.g. after
  renaming a resource block, so the next plan does not destroy and
  recreate it. Both addresses must have the same resource type.

Options:
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
`

func runStateMv(m *meta, args []string) int {
	fs := m.flagSet()
	var lf lockFlags
	lf.register(fs)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		return m.usageError("state mv needs a source and a destination address")
	}
	addrs, err := parseAddrs(fs.Args())
	if err != nil {
		return m.usageError("%v", err)
	}
	src, dst := addrs[0], addrs[1]
	if src.Type != dst.Type || src.Mode != dst.Mode {
		return m.usageError("cannot move %s to %s: the resource type (or mode) differs; an object can only be recorded under an address of its own type", src, dst)
	}
	return m.editState(lf, func(st *state.State) (string, error) {
		if err := moveInState(st, src, dst); err != nil {
			return "", err
		}
		return fmt.Sprintf("Move %q to %q\nSuccessfully moved 1 object(s).", src.String(), dst.String()), nil
	})
}

// moveInState moves a whole resource (both addresses without an index)
// or a single instance.
func moveInState(st *state.State, src, dst state.Address) error {
	r := st.Resource(src)
	if r == nil {
		return noInstance(st, src)
	}
	if src.Key.IsZero() && dst.Key.IsZero() {
		if st.Resource(dst) != nil {
			return fmt.Errorf("cannot move %s to %s: %s is already in the state; remove it first (airctl state rm) if it is obsolete", src, dst, dst)
		}
		r.Type, r.Name = dst.Type, dst.Name
		return nil
	}
	inst := st.Instance(src)
	if inst == nil {
		return noInstance(st, src)
	}
	if st.Instance(dst) != nil {
		return fmt.Errorf("cannot move %s to %s: %s is already in the state", src, dst, dst)
	}
	provider := r.Provider
	moved := inst.DeepCopy()
	st.RemoveInstance(src)
	st.SetInstance(dst, provider, moved)
	return nil
}

const statePullUsage = `Usage: airctl [global options] state pull

  Prints the stored state (JSON) to stdout, secrets included: treat the
  output as sensitive.
`

func runStatePull(m *meta, args []string) int {
	fs := m.flagSet()
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	st, code, ok := m.readState()
	if !ok {
		return code
	}
	b, err := state.Encode(st)
	if err != nil {
		return m.fail(err)
	}
	m.stdout.Write(b)
	return exitOK
}

const statePushUsage = `Usage: airctl [global options] state push [options] FILE

  Replaces the stored state with FILE ("-" reads stdin). Refused when FILE
  belongs to another state (lineage) or is older (serial) than the stored
  state, unless -force.

Options:
  -force               Write even if lineage or serial say it is unsafe.
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
`

func runStatePush(m *meta, args []string) int {
	fs := m.flagSet()
	var lf lockFlags
	lf.register(fs)
	force := fs.Bool("force", false, "write whatever lineage and serial say")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return m.usageError("state push needs exactly one file (or - for stdin)")
	}
	data, err := m.readInput(fs.Arg(0))
	if err != nil {
		return m.fail(err)
	}
	pushed, err := state.Decode(data)
	if err != nil {
		return m.fail(fmt.Errorf("%s: %w", fs.Arg(0), err))
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
	s := m.interruptible()
	defer s.release()
	unlock, err := m.lock(s.ctx, b, m.name, lf)
	if err != nil {
		return m.fail(err)
	}
	defer unlock()
	write := b.Write
	if *force {
		write = b.ForceWrite
	}
	if err := write(s.ctx, pushed); err != nil {
		return m.fail(fmt.Errorf("push %s: %w", fs.Arg(0), err))
	}
	return exitOK
}

// readInput reads a file argument, "-" meaning stdin.
func (m *meta) readInput(name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(m.env.Stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(m.path(name))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}
