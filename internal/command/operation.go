package command

import (
	"flag"
	"fmt"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/render"
)

// planFlags are the planning options plan, apply and destroy share.
type planFlags struct {
	vars        varFlags
	lock        lockFlags
	targets     addrList
	replace     addrList
	destroy     bool
	refresh     bool
	parallelism int
	json        bool
}

func (p *planFlags) register(m *meta, fs *flag.FlagSet, destroyFlag bool) {
	p.vars.m = m
	p.vars.register(fs)
	p.lock.register(fs)
	p.targets.register(fs, "target", "limit planning to this resource and what it needs (repeatable)")
	p.replace.register(fs, "replace", "force replacement of this resource instance (repeatable)")
	if destroyFlag {
		fs.BoolVar(&p.destroy, "destroy", false, "plan to destroy every object")
	}
	fs.BoolVar(&p.refresh, "refresh", true, "read the current state of every object first")
	fs.IntVar(&p.parallelism, "parallelism", 10, "maximum concurrent provider operations")
	fs.BoolVar(&p.json, "json", false, "machine-readable output, one JSON object per line")
}

// planningGiven reports options that only make sense when planning, which
// a saved plan has already fixed.
func (p *planFlags) planningGiven() bool {
	return p.vars.given() || len(p.targets.addrs) > 0 || len(p.replace.addrs) > 0 || p.destroy || !p.refresh
}

func (p *planFlags) options() provision.PlanOptions {
	return provision.PlanOptions{Destroy: p.destroy, SkipRefresh: !p.refresh, Targets: p.targets.addrs, Replace: p.replace.addrs}
}

// setJSON switches the command to the machine-readable UI and announces
// the version, which is always the first message.
func (m *meta) setJSON(on bool) {
	if !on {
		return
	}
	m.json = true
	m.jsonUI = render.NewJSON(m.stdout)
	m.jsonUI.Version(m.env.version())
}

// operation is a command run against the state: the configuration, the
// locked backend and an engine wired to the UI.
type operation struct {
	m       *meta
	cfg     *config.Config
	backend *openedBackend
	unlock  func()
	engine  *provision.Engine

	mu                        sync.Mutex
	added, changed, destroyed int
}

// close releases the lock and the backend; every command defers it.
func (o *operation) close() {
	if o.unlock != nil {
		o.unlock()
	}
	o.backend.close()
}

// startOperation loads the configuration, resolves variables (vf nil: a
// saved plan brings its own), opens the backend and takes the lock.
// Variables come before the lock, so nobody holds it while answering a
// prompt. nil means it failed and printed why.
func (m *meta) startOperation(s *stops, vf *varFlags, lf lockFlags, parallelism int, lockOp string) *operation {
	cfg := m.loadConfig()
	if cfg == nil {
		return nil
	}
	var vars map[string]cty.Value
	if vf != nil {
		var ok bool
		if vars, ok = m.variables(s.ctx, cfg, vf); !ok {
			return nil
		}
	}
	b, err := m.backend(cfg)
	if err != nil {
		m.showError(err)
		return nil
	}
	unlock, err := m.lock(s.ctx, b, lockOp, lf)
	if err != nil {
		b.close()
		m.showError(err)
		return nil
	}
	o := &operation{m: m, cfg: cfg, backend: b, unlock: unlock}
	o.engine = &provision.Engine{
		Config: cfg, Providers: m.env.Providers, Backend: b, Variables: vars,
		Parallelism: parallelism, Abort: s.abort, Version: m.env.version(),
		ProgressInterval: m.env.ProgressInterval, Events: o.event(),
	}
	return o
}

// event returns the engine's event sink: progress lines or JSON, plus the
// counts for the "Apply complete!" summary.
func (o *operation) event() func(provision.Event) {
	var show func(provision.Event)
	if o.m.json {
		show = o.m.jsonUI.Event
	} else {
		show = render.NewProgress(o.m.stdout, o.m.opts()).Event
	}
	return func(ev provision.Event) {
		if ev.Type == provision.ApplyDone {
			o.count(ev.Action)
		}
		show(ev)
	}
}

func (o *operation) count(a provision.Action) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch a {
	case provision.Create:
		o.added++
	case provision.Update:
		o.changed++
	case provision.Delete:
		o.destroyed++
	}
}

// plan runs the engine's plan and shows it.
func (o *operation) plan(s *stops, opts provision.PlanOptions) (*provision.Plan, error) {
	p, err := o.engine.Plan(s.ctx, opts)
	if err != nil {
		if s.interrupted() {
			return nil, fmt.Errorf("planning was interrupted; nothing was changed: %w", err)
		}
		return nil, err
	}
	if o.m.json {
		o.m.jsonUI.PlannedChanges(p)
		add, change, destroy := p.Summary()
		o.m.jsonUI.ChangeSummary("plan", add, change, destroy)
		return p, nil
	}
	fmt.Fprintln(o.m.stdout)
	return p, render.Plan(o.m.stdout, p, o.m.opts())
}
