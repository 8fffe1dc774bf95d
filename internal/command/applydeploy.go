package command

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// earlyDeploys starts each deploy block's rollout during the apply, as soon
// as every resource and data source the block references (directly or
// through locals: the VM, the database) is applied, instead of after the
// whole apply: the load balancer and its certificate can take many minutes
// and the hosts do not need them. Blocks that never become ready during
// the apply (nothing to apply, -target) are deployed after it.
type earlyDeploys struct {
	o  *operation
	s  *stops
	df deployFlags

	// needs is each block's resources and data sources; pending, those
	// not yet applied.
	needs   map[string]map[string]bool
	mu      sync.Mutex
	pending map[string]map[string]bool
	started []string
	failed  bool
	wg      sync.WaitGroup
}

// deployEarly hooks the engine so that ready blocks deploy while the apply
// goes on.
func (o *operation) deployEarly(s *stops, df deployFlags) *earlyDeploys {
	ed := &earlyDeploys{o: o, s: s, df: df, needs: map[string]map[string]bool{}, pending: map[string]map[string]bool{}}
	for name, d := range o.cfg.Deploys {
		ed.needs[name] = deployDeps(o.cfg, d)
		ed.pending[name] = maps.Clone(ed.needs[name])
	}
	o.engine.ResourceApplied = ed.applied
	return ed
}

// deployDeps lists the configured resources and data sources a deploy
// block references, following locals.
func deployDeps(cfg *config.Config, d *config.Deploy) map[string]bool {
	deps := map[string]bool{}
	seen := map[string]bool{}
	var visit func([]config.Reference)
	visit = func(refs []config.Reference) {
		for _, r := range refs {
			switch r.Kind {
			case config.RefResource, config.RefDataSource:
				deps[r.Addr] = true
			case config.RefLocal:
				if l := cfg.Locals[r.Name]; l != nil && !seen[r.Name] {
					seen[r.Name] = true
					visit(l.References)
				}
			}
		}
	}
	visit(d.References)
	return deps
}

// applied is the engine's ResourceApplied hook: it starts the blocks that
// addr was the last missing piece of, against st.
func (ed *earlyDeploys) applied(addr string, st *state.State) {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	if ed.s.ctx.Err() != nil {
		return // interrupted: start nothing new
	}
	for _, name := range slices.Sorted(maps.Keys(ed.pending)) {
		deps := ed.pending[name]
		delete(deps, addr)
		if len(deps) > 0 {
			continue
		}
		delete(ed.pending, name)
		ed.started = append(ed.started, name)
		ed.wg.Add(1)
		go ed.deploy(name, onlyResources(st, ed.needs[name]))
	}
}

// onlyResources is st with just the resources in addrs: others may be
// half-created at this point of the apply, with nothing to evaluate yet.
func onlyResources(st *state.State, addrs map[string]bool) *state.State {
	out := *st
	out.Resources = slices.DeleteFunc(slices.Clone(st.Resources), func(r *state.Resource) bool { return !addrs[r.Addr().String()] })
	return &out
}

func (ed *earlyDeploys) deploy(name string, st *state.State) {
	defer ed.wg.Done()
	m := ed.o.m
	if !m.json {
		fmt.Fprintf(m.stdout, "\n%s\n", m.opts().Bold(fmt.Sprintf("Deploy %q: its resources are applied; deploying while the apply goes on", name)))
	}
	if ed.o.deployBlocks(ed.s, st, []string{name}, ed.df) != exitOK {
		ed.mu.Lock()
		ed.failed = true
		ed.mu.Unlock()
	}
}

// wait waits for the deploys started during the apply and returns the
// blocks it started and whether they all succeeded.
func (ed *earlyDeploys) wait() (started []string, ok bool) {
	ed.wg.Wait()
	ed.mu.Lock()
	defer ed.mu.Unlock()
	return ed.started, !ed.failed
}

// deployBlocks evaluates the named deploy blocks against st and deploys
// them.
func (o *operation) deployBlocks(s *stops, st *state.State, names []string, df deployFlags) int {
	cfg := *o.cfg
	cfg.Deploys = map[string]*config.Deploy{}
	for _, n := range names {
		cfg.Deploys[n] = o.cfg.Deploys[n]
	}
	specs, ok := o.m.evalDeploys(&cfg, st, o.engine.Variables)
	if !ok {
		return exitError
	}
	return o.m.deploy(s, specs, df)
}
