package command

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/render"
	"github.com/airctl/airctl/provision/state"
)

const applyUsage = `Usage: airctl [global options] apply [options] [PLANFILE]

  Creates, updates and destroys objects so that the real infrastructure
  matches the configuration. Without PLANFILE it plans first, shows the
  plan and asks for confirmation (only on a terminal; elsewhere pass
  -auto-approve). With PLANFILE (from "airctl plan -out") it performs
  exactly that plan without asking, and refuses if the state or the
  configuration changed since.

Options:
  -auto-approve        Apply without asking for confirmation.
  -destroy             Destroy every object (same as "airctl destroy").
  -refresh=false       Skip reading the objects from their providers.
  -target=ADDR         Apply only this resource and what it depends on.
  -replace=ADDR        Replace this resource instance. Repeatable.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -json                Machine-readable output (needs -auto-approve or
                       PLANFILE).
  -parallelism=N       At most N concurrent provider operations (10).
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
  -no-color            No colour in the output.

  Deploying (when the configuration has a deploy block):
  -deploy=false        Only provision; do not deploy afterwards.
  -parallel=N, -batch=N, -trust-on-first-use, -force-unlock, -binary=PATH
                       As for "airctl deploy".

  Each deploy block is evaluated and its hosts deployed as "airctl deploy"
  does as soon as the resources it references (the VM, the database) are
  applied, while the rest of the apply (load balancer, certificate) goes
  on; a block whose resources this apply did not visit (no changes,
  -target) is deployed after it.
  Progress is shown per host and step (-json: one event per line).

  Ctrl-C once stops gracefully: nothing new starts, running operations
  finish and are saved in the state, the lock is released. Twice cancels
  the running operations too.
`

const destroyUsage = `Usage: airctl [global options] destroy [options]

  Destroys every object airctl manages in this configuration's state. Same
  as "airctl apply -destroy"; asks for confirmation unless -auto-approve.

Options:
  -auto-approve        Destroy without asking for confirmation.
  -target=ADDR         Destroy only this resource and what depends on it.
  -refresh=false       Skip reading the objects from their providers.
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -json                Machine-readable output (needs -auto-approve).
  -parallelism=N       At most N concurrent provider operations (10).
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
  -no-color            No colour in the output.
`

func runApply(m *meta, args []string) int   { return apply(m, args, false) }
func runDestroy(m *meta, args []string) int { return apply(m, args, true) }

// applyRun is one apply or destroy invocation's choices.
type applyRun struct {
	pf          planFlags
	autoApprove bool
	planFile    string
	// deploy: after provisioning, roll out to the deploy block's hosts.
	deploy bool
	df     deployFlags
}

func apply(m *meta, args []string, destroy bool) int {
	fs := m.flagSet()
	var r applyRun
	r.pf.register(m, fs, !destroy)
	fs.BoolVar(&r.autoApprove, "auto-approve", false, "apply without asking")
	if !destroy {
		fs.BoolVar(&r.deploy, "deploy", true, "deploy to the deploy block's hosts after provisioning")
		r.df.register(fs)
	}
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	r.pf.destroy = r.pf.destroy || destroy
	if code, ok := m.checkApplyArgs(&r, fs.Args(), destroy); !ok {
		return code
	}
	m.setJSON(r.pf.json)
	s := m.interruptible()
	defer s.release()
	vf := &r.pf.vars
	if r.planFile != "" {
		vf = nil // the saved plan carries its variables
	}
	o := m.startOperation(s, vf, r.pf.lock, r.pf.parallelism, m.name)
	if o == nil {
		return exitError
	}
	defer o.close()
	deploying := r.deploy && !r.pf.destroy && len(o.cfg.Deploys) > 0
	var early *earlyDeploys
	if deploying {
		early = o.deployEarly(s, r.df)
	}
	p, code, ok := o.planForApply(s, &r)
	if ok {
		code = o.apply(s, p)
	} else if code != exitOK {
		return code
	}
	if !deploying {
		return code
	}
	// "No changes" (ok false, exit 0) still deploys: the revision may
	// have changed even though the infrastructure did not.
	return o.deployAfterApply(s, r.df, code, early)
}

// checkApplyArgs validates the combination of arguments before anything
// runs, so that a CI job without -auto-approve fails at once instead of
// after a long refresh.
func (m *meta) checkApplyArgs(r *applyRun, args []string, destroy bool) (int, bool) {
	switch {
	case len(args) > 1:
		return m.usageError("%s takes at most one argument (a saved plan file), got %q", m.name, args), false
	case len(args) == 1 && destroy:
		return m.usageError("destroy takes no plan file; make one with \"airctl plan -destroy -out=FILE\" and apply it"), false
	case len(args) == 1:
		r.planFile = m.path(args[0])
		if r.pf.planningGiven() {
			return m.usageError("planning options (-var, -var-file, -target, -replace, -destroy, -refresh) cannot be used with a saved plan: the plan already fixed them; plan again with the options instead"), false
		}
		return exitOK, true
	case r.autoApprove:
		return exitOK, true
	case r.pf.json:
		return m.usageError("-json needs -auto-approve or a saved plan file: there is no way to confirm in JSON mode"), false
	case !m.env.StdinTTY || !r.pf.vars.input:
		m.showError(fmt.Errorf("%s needs confirmation, but stdin is not a terminal: pass -auto-approve, or save a reviewed plan with \"airctl plan -out=FILE\" and run \"airctl apply FILE\"", m.name))
		return exitError, false
	}
	return exitOK, true
}

// planForApply loads the saved plan or plans now, shows the plan and asks
// for confirmation. ok false means stop with code.
func (o *operation) planForApply(s *stops, r *applyRun) (*provision.Plan, int, bool) {
	m := o.m
	if r.planFile != "" {
		p, err := o.readPlan(r.planFile)
		if err != nil {
			return nil, m.fail(err), false
		}
		return p, exitOK, true
	}
	p, err := o.plan(s, r.pf.options())
	if err != nil {
		return nil, m.fail(err), false
	}
	if !p.HasChanges() {
		if len(p.Drift) == 0 {
			return nil, o.summary(nil, p.Destroy), false
		}
		return p, exitOK, true // only records what refresh found; nothing to confirm
	}
	if r.autoApprove {
		return p, exitOK, true
	}
	if !o.confirm(s.ctx, p.Destroy) {
		return nil, exitError, false
	}
	return p, exitOK, true
}

func (o *operation) readPlan(path string) (*provision.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the saved plan: %w", err)
	}
	defer f.Close()
	p, err := o.engine.ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", path, err)
	}
	o.engine.Variables = p.Variables
	return p, nil
}

// confirm asks Terraform's question; only "yes" proceeds.
func (o *operation) confirm(ctx context.Context, destroy bool) bool {
	m := o.m
	question := "Do you want to perform these actions?\n  airctl will perform the actions described above.\n  Only 'yes' will be accepted to approve."
	cancelled := "Apply cancelled."
	if destroy {
		question = "Do you really want to destroy all resources?\n  airctl will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm."
		cancelled = "Destroy cancelled."
	}
	fmt.Fprintf(m.stdout, "\n%s\n\n  Enter a value: ", m.opts().Bold(question))
	answer, err := m.readLine(ctx)
	fmt.Fprintln(m.stdout)
	if err != nil || answer != "yes" {
		m.showError(errors.New(cancelled))
		return false
	}
	return true
}

// apply carries out p and reports the result; state has been written
// after every operation whatever happens here.
func (o *operation) apply(s *stops, p *provision.Plan) int {
	m := o.m
	if !m.json {
		fmt.Fprintln(m.stdout)
	}
	st, err := o.engine.Apply(s.ctx, p)
	if err != nil {
		if s.interrupted() {
			err = fmt.Errorf("%w\n\nThe apply was interrupted. Operations that had started finished and are recorded in the state; run \"airctl apply\" again to continue", err)
		}
		if errors.Is(err, provision.ErrStalePlan) {
			err = fmt.Errorf("%w\n\nThe saved plan no longer matches the state: another run changed it. Make a new plan", err)
		}
		return m.fail(err)
	}
	return o.summary(st, p.Destroy)
}

// summary prints "Apply complete!" (or "Destroy complete!") and the outputs.
func (o *operation) summary(st *state.State, destroyMode bool) int {
	m := o.m
	o.mu.Lock()
	add, change, destroy := o.added, o.changed, o.destroyed
	o.mu.Unlock()
	operation := "apply"
	if destroyMode {
		operation = "destroy"
	}
	if m.json {
		m.jsonUI.ChangeSummary(operation, add, change, destroy)
		if st != nil && len(st.Outputs) > 0 {
			m.jsonUI.Outputs(st.Outputs)
		}
		return exitOK
	}
	msg := fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed.", add, change, destroy)
	if operation == "destroy" {
		msg = fmt.Sprintf("Destroy complete! Resources: %d destroyed.", destroy)
	}
	fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold(msg))
	if st != nil && len(st.Outputs) > 0 && operation != "destroy" {
		fmt.Fprintf(m.stdout, "\n%s\n\n", m.opts().Bold("Outputs:"))
		if err := render.Outputs(m.stdout, st.Outputs); err != nil {
			return m.fail(err)
		}
	}
	return exitOK
}
