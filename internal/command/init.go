package command

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state/local"
)

const initUsage = `Usage: airctl [global options] init [options]

  Prepares the configuration directory: checks that every provider the
  configuration uses is built into this airctl, connects to the backend of
  the terraform { backend "..." {} } block (the local file airctl.tfstate
  by default, or gcs) and records it in .airctl/. When the backend changed
  and the new one holds no state yet, the state is copied into it (a local
  state file is then kept as airctl.tfstate.migrated). Run it again after
  changing the backend block.

Options:
  -reconfigure         Use the backend as configured without migrating
                       any state into it.
  -lock=false          Do not hold the state locks while migrating.
  -lock-timeout=DUR    Wait up to DUR for the state locks (default 0s).
  -no-color            No colour in the output.
`

func runInit(m *meta, args []string) int {
	fs := m.flagSet()
	reconfigure := fs.Bool("reconfigure", false, "do not migrate state")
	var lf lockFlags
	lf.register(fs)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return m.usageError("init takes no arguments; use -chdir=DIR for another directory")
	}
	cfg := m.loadConfig()
	if cfg == nil {
		return exitError
	}
	fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold("Initializing the backend..."))
	want, err := settingsOf(cfg.Terraform.Backend)
	if err != nil {
		return m.fail(err)
	}
	if err := m.initBackend(want, *reconfigure, lf); err != nil {
		return m.fail(err)
	}
	if !m.initProviders(cfg) {
		return exitError
	}
	fmt.Fprintf(m.stdout, "\n%s\n\nYou may now run \"airctl plan\" to see the changes required for your infrastructure.\n",
		m.opts().Bold("airctl has been successfully initialized!"))
	return exitOK
}

// initBackend connects to the configured backend, migrates the state from
// the previously recorded one when it changed, and records the new one.
func (m *meta) initBackend(want backendSettings, reconfigure bool, lf lockFlags) error {
	rec, err := readRecord(m.dir)
	if err != nil && !reconfigure {
		return err
	}
	prev := backendSettings{Type: "local"}
	if rec != nil {
		prev = *rec
	}
	to, err := m.openBackend(want)
	if err != nil {
		return err
	}
	defer to.close()
	if _, err := to.Read(m.ctx); err != nil {
		return fmt.Errorf("the %s backend is not usable: %w", want.Type, err)
	}
	if !reconfigure && !prev.equal(want) {
		from, err := m.openBackend(prev)
		if err != nil {
			return fmt.Errorf("open the previous backend %s to migrate its state: %w (use -reconfigure to skip migration)", prev, err)
		}
		defer from.close()
		if err := m.migrateState(from, to, lf); err != nil {
			return err
		}
	}
	if err := writeRecord(m.dir, want); err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "Using the %s backend: state in %s\n", want.Type, to.where)
	return nil
}

// migrateState copies the state from one backend into another that has
// none, holding both locks.
func (m *meta) migrateState(from, to *openedBackend, lf lockFlags) error {
	s := m.interruptible()
	defer s.release()
	unlockFrom, err := m.lock(s.ctx, from, "init (migrate state)", lf)
	if err != nil {
		return err
	}
	defer unlockFrom()
	unlockTo, err := m.lock(s.ctx, to, "init (migrate state)", lf)
	if err != nil {
		return err
	}
	defer unlockTo()
	old, err := from.Read(s.ctx)
	if err != nil || old == nil {
		return wrapIf(err, "read the state to migrate from %s", from.where)
	}
	cur, err := to.Read(s.ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", to.where, err)
	}
	switch {
	case cur != nil && cur.Lineage == old.Lineage && cur.Serial >= old.Serial:
		fmt.Fprintf(m.stdout, "The state in %s is already in %s; nothing to migrate.\n", from.where, to.where)
		return m.retire(from)
	case cur != nil:
		return fmt.Errorf("cannot migrate: both %s and %s hold a state (serials %d and %d, lineages %s and %s); decide which one is right, then \"airctl state push -force\" it, or use init -reconfigure to keep the new backend's state",
			from.where, to.where, old.Serial, cur.Serial, old.Lineage, cur.Lineage)
	}
	if err := to.Write(context.WithoutCancel(s.ctx), old); err != nil {
		return fmt.Errorf("copy the state to %s: %w", to.where, err)
	}
	fmt.Fprintf(m.stdout, "Migrated the state from %s to %s (serial %d, %d resources).\n", from.where, to.where, old.Serial, len(old.Resources))
	return m.retire(from)
}

// retire moves a migrated local state file aside so that nothing reads
// the stale copy by mistake; it stays there for recovery. A remote state
// is left alone: other people may still point at it.
func (m *meta) retire(from *openedBackend) error {
	b, ok := from.Backend.(*local.Backend)
	if !ok {
		fmt.Fprintf(m.stdout, "The old state in %s was left in place; delete it once you no longer need it.\n", from.where)
		return nil
	}
	if err := os.Rename(b.StatePath(), b.StatePath()+".migrated"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the state was migrated, but setting the old file aside failed: %w; delete %s yourself", err, b.StatePath())
	}
	fmt.Fprintf(m.stdout, "The old local state was kept as %s.\n", m.rel(b.StatePath()+".migrated"))
	return nil
}

func wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// initProviders checks that every provider the configuration uses is
// built in and lists them.
func (m *meta) initProviders(cfg *config.Config) bool {
	fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold("Initializing provider plugins..."))
	schemas, diags := m.providerSchemas(cfg)
	for _, name := range sortedKeys(schemas) {
		if _, ok := m.env.Providers[name]; ok {
			fmt.Fprintf(m.stdout, "- Using built-in provider %s\n", name)
		}
	}
	if diags.HasErrors() {
		m.diagnostics(diags)
		return false
	}
	if req := cfg.Terraform.RequiredProviders; len(req) > 0 {
		fmt.Fprintf(m.stdout, "- required_providers (%s): airctl's providers are built in, so source and version constraints are not checked\n", strings.Join(sortedKeys(req), ", "))
	}
	return true
}
