package command

import (
	"fmt"
	"os"

	"github.com/airctl/airctl/provision"
)

const planUsage = `Usage: airctl [global options] plan [options]

  Shows the changes that would make the real infrastructure match the
  configuration: reads the state, refreshes every object from its provider
  and compares. Nothing is changed. With -out the plan is saved, and
  "airctl apply FILE" then performs exactly it.

Options:
  -out=FILE            Save the plan to FILE.
  -destroy             Plan to destroy every object in the state.
  -refresh=false       Plan against the state as stored, without reading
                       the objects from their providers.
  -target=ADDR         Plan only this resource and what it depends on.
                       Repeatable. For exceptional situations only.
  -replace=ADDR        Replace this resource instance even if nothing
                       changed. Repeatable.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -detailed-exitcode   Exit 0 with no changes, 1 on error, 2 with changes.
  -json                Machine-readable output, one JSON object per line.
  -parallelism=N       At most N concurrent provider operations (10).
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
  -no-color            No colour in the output.
`

func runPlan(m *meta, args []string) int {
	fs := m.flagSet()
	var pf planFlags
	pf.register(m, fs, true)
	out := fs.String("out", "", "save the plan to this file")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when there are changes")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return m.usageError("plan takes no arguments, got %q", fs.Args())
	}
	m.setJSON(pf.json)
	s := m.interruptible()
	defer s.release()
	o := m.startOperation(s, &pf.vars, pf.lock, pf.parallelism, "plan")
	if o == nil {
		return exitError
	}
	defer o.close()
	p, err := o.plan(s, pf.options())
	if err != nil {
		return m.fail(err)
	}
	if *out != "" {
		if err := savePlan(m.path(*out), p); err != nil {
			return m.fail(err)
		}
		if !m.json {
			fmt.Fprintf(m.stdout, "\nSaved the plan to: %s\n\nTo perform exactly these actions, run the following command to apply:\n    airctl apply %q\n", *out, *out)
		}
	} else if !m.json && p.HasChanges() {
		fmt.Fprintln(m.stdout, "\nNote: You didn't use the -out option to save this plan, so airctl can't guarantee to take exactly these actions if you run \"airctl apply\" now.")
	}
	if *detailed && p.HasChanges() {
		return exitChanges
	}
	return exitOK
}

func savePlan(path string, p *provision.Plan) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save the plan: %w", err)
	}
	if err := provision.WritePlan(f, p); err != nil {
		f.Close()
		return fmt.Errorf("save the plan to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save the plan to %s: %w", path, err)
	}
	return nil
}
