package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/graph"
	"github.com/airctl/airctl/provision/marks"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// planner is the walk that builds a Plan.
type planner struct {
	*walker
	opts    PlanOptions
	prior   *state.State
	plan    *Plan
	replace map[string]bool
}

// Plan refreshes the state, evaluates the configuration and proposes the
// changes that would make the world match it. On error the returned plan is
// partial (Errored) and the error lists every failed node.
func (e *Engine) Plan(ctx context.Context, opts PlanOptions) (*Plan, error) {
	prior, err := e.readState(ctx)
	if err != nil {
		return nil, err
	}
	p := &planner{
		walker:  newWalker(e),
		opts:    opts,
		prior:   prior,
		replace: map[string]bool{},
		plan: &Plan{
			Destroy: opts.Destroy, Variables: e.Variables, Targets: opts.Targets, Replace: opts.Replace,
			PriorLineage: prior.Lineage, PriorSerial: prior.Serial,
		},
	}
	for _, a := range opts.Replace {
		p.replace[a.String()] = true
	}
	if p.plan.ConfigHash, err = ConfigHash(e.Config.Dir); err != nil {
		return nil, err
	}
	err = p.walk(ctx)
	p.plan.sort()
	p.plan.Errored = err != nil
	return p.plan, err
}

func (e *Engine) readState(ctx context.Context) (*state.State, error) {
	st, err := e.Backend.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if st == nil {
		st = state.New(e.Version)
	}
	return st, nil
}

func (p *planner) walk(ctx context.Context) error {
	if err := p.e.walkAll(ctx, p.prior, p.opts.Destroy, p.opts.Targets, p.planNode, p.planDestroyNode); err != nil {
		return err
	}
	if p.opts.Destroy && len(p.opts.Targets) == 0 {
		for name, o := range p.prior.Outputs {
			before, _ := o.CtyValue()
			p.plan.Outputs = append(p.plan.Outputs, &OutputChange{Name: name, Before: before, After: cty.NilVal, Sensitive: o.Sensitive})
		}
	}
	return nil
}

// walkAll walks a plan or an apply: the whole configuration with node, or,
// for a destroy, the settings (variables, locals, providers) with node and
// then the resources in state with destroyNode, dependents first. Both
// graphs are built from st before anything runs.
func (e *Engine) walkAll(ctx context.Context, st *state.State, destroy bool, targets []state.Address, node, destroyNode graph.WalkFunc[string]) error {
	g, dg := buildGraph(e.Config, st), destroyGraph(e.Config, st)
	if err := g.Validate(); err != nil {
		return err
	}
	if !destroy {
		return graph.Walk(ctx, g.Subgraph(targetFilter(g, targets)), e.walkOptions(), node).Err()
	}
	if err := graph.Walk(ctx, settingsGraph(g), e.walkOptions(), node).Err(); err != nil {
		return err
	}
	// In the destroy graph a resource depends on its dependents, so a
	// target's dependencies there are what must be destroyed before it.
	return graph.Walk(ctx, dg.Subgraph(targetFilter(dg, targets)), e.walkOptions(), destroyNode).Err()
}

// settingsGraph keeps variables, locals and providers: what a destroy needs
// before it can call providers.
func settingsGraph(g *graph.Graph[string]) *graph.Graph[string] {
	return g.Subgraph(func(k string) bool {
		return strings.HasPrefix(k, varPrefix) || strings.HasPrefix(k, localPrefix) || strings.HasPrefix(k, providerPrefix)
	})
}

func (p *planner) planNode(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, varPrefix):
		return nil
	case strings.HasPrefix(key, localPrefix):
		return p.evalLocal(strings.TrimPrefix(key, localPrefix))
	case strings.HasPrefix(key, providerPrefix):
		return p.configureProvider(ctx, strings.TrimPrefix(key, providerPrefix))
	case strings.HasPrefix(key, outputPrefix):
		return p.planOutput(strings.TrimPrefix(key, outputPrefix))
	}
	if r := cfgResource(p.e.Config, key); r != nil {
		if r.Mode == config.DataResource {
			return p.planData(ctx, r)
		}
		return p.planResource(ctx, r)
	}
	return p.planOrphan(ctx, key)
}

func (p *planner) addChange(c *Change) {
	p.mu.Lock()
	p.plan.Changes = append(p.plan.Changes, c)
	p.mu.Unlock()
}

func (p *planner) addDrift(c *Change) {
	p.mu.Lock()
	p.plan.Drift = append(p.plan.Drift, c)
	p.mu.Unlock()
}

func (p *planner) planResource(ctx context.Context, r *config.Resource) error {
	addr := state.Address{Mode: state.Managed, Type: r.Type, Name: r.Name}
	prov, sch, err := p.provider(r.ProviderAddr(), r.Type, state.Managed)
	if err != nil {
		return err
	}
	evalCtx, err := p.evalContext(r.References)
	if err != nil {
		return err
	}
	insts, err := expand(r, evalCtx)
	if err != nil {
		return err
	}
	values, err := p.planInstances(ctx, prov, sch, r, addr, insts)
	if err != nil {
		return err
	}
	if err := p.planRemovedInstances(ctx, prov, sch, addr, insts); err != nil {
		return err
	}
	p.mu.Lock()
	p.resources[r.Addr()] = aggregate(r, values)
	p.mu.Unlock()
	return nil
}

// planInstances plans each instance in parallel; provider calls are bounded
// by the walk's parallelism through the engine's semaphore.
func (p *planner) planInstances(ctx context.Context, prov provider.Provider, sch *provider.Schema, r *config.Resource, addr state.Address, insts []instance) (map[state.IndexKey]cty.Value, error) {
	values := make(map[state.IndexKey]cty.Value, len(insts))
	var mu sync.Mutex
	var g errgroup.Group
	for _, in := range insts {
		g.Go(func() error {
			release, err := p.acquire(ctx)
			if err != nil {
				return err
			}
			defer release()
			ia := addr.Instance(in.key)
			ch, err := p.planInstance(ctx, prov, sch, r, ia, in.ctx, p.prior.Instance(ia))
			if err != nil {
				return withInstance(ia, err)
			}
			p.addChange(ch)
			mu.Lock()
			values[in.key] = ch.After
			mu.Unlock()
			return nil
		})
	}
	return values, g.Wait()
}

func (p *planner) planInstance(ctx context.Context, prov provider.Provider, sch *provider.Schema, r *config.Resource, addr state.Address, evalCtx *hcl.EvalContext, prior *state.Instance) (*Change, error) {
	before, err := p.refresh(ctx, prov, sch, addr, prior)
	if err != nil {
		return nil, err
	}
	cfgVal, err := decodeBody(r.Config, sch, evalCtx)
	if err != nil {
		return nil, err
	}
	if !before.IsNull() {
		cfgVal = ignoreChanges(r.Lifecycle, cfgVal, before)
	}
	ch := &Change{
		Addr: addr, Provider: r.ProviderAddr(), Before: before, Schema: sch,
		Dependencies: dependencies(r), CreateBeforeDestroy: r.Lifecycle.CreateBeforeDestroy,
	}
	if err := p.decide(ctx, prov, sch, r, ch, prior, cfgVal); err != nil {
		return nil, err
	}
	return ch, preventDestroy(r, ch)
}

// decide asks the provider for the planned value and picks the action.
func (p *planner) decide(ctx context.Context, prov provider.Provider, sch *provider.Schema, r *config.Resource, ch *Change, prior *state.Instance, cfgVal cty.Value) error {
	resp, err := planWith(ctx, prov, r.Type, ch.Before, cfgVal)
	if err != nil {
		return err
	}
	ch.After = markSensitive(sch, resp.Planned)
	switch {
	case ch.Before.IsNull():
		ch.Action = Create
		return nil
	case prior != nil && prior.Status == state.Tainted:
		ch.Reason = "tainted: its creation did not finish"
	case p.replace[ch.Addr.String()]:
		ch.Reason = "requested with -replace"
	case len(resp.RequiresReplace) > 0:
		ch.ReplacePaths = resp.RequiresReplace
	case valuesEqual(ch.Before, resp.Planned):
		ch.Action, ch.After = NoOp, ch.Before
		return nil
	default:
		ch.Action = Update
		return nil
	}
	return p.planReplace(ctx, prov, sch, r, ch, cfgVal)
}

func (p *planner) planReplace(ctx context.Context, prov provider.Provider, sch *provider.Schema, r *config.Resource, ch *Change, cfgVal cty.Value) error {
	resp, err := planWith(ctx, prov, r.Type, cty.NullVal(sch.ImpliedType()), cfgVal)
	if err != nil {
		return err
	}
	ch.After = markSensitive(sch, resp.Planned)
	ch.Action = DeleteThenCreate
	if r.Lifecycle.CreateBeforeDestroy {
		ch.Action = CreateThenDelete
	}
	return nil
}

// planWith calls the provider with unmarked values (providers never see
// marks) and puts the configuration's marks back on the planned value.
func planWith(ctx context.Context, prov provider.Provider, typeName string, prior, cfgVal cty.Value) (provider.PlanResponse, error) {
	cfgPlain, cfgMarks := cfgVal.UnmarkDeepWithPaths()
	priorPlain, _ := prior.UnmarkDeep()
	resp, err := prov.PlanResource(ctx, provider.PlanRequest{TypeName: typeName, Prior: priorPlain, Config: cfgPlain})
	if err != nil {
		return resp, err
	}
	resp.Planned = resp.Planned.MarkWithPaths(cfgMarks)
	return resp, nil
}

// refresh reads the current object; a null result means it is gone.
func (p *planner) refresh(ctx context.Context, prov provider.Provider, sch *provider.Schema, addr state.Address, prior *state.Instance) (cty.Value, error) {
	ty := sch.ImpliedType()
	if prior == nil {
		return cty.NullVal(ty), nil
	}
	if prior.Status == state.Creating {
		return p.adopt(ctx, prov, sch, addr, prior.ImportID)
	}
	stored, err := prior.Value(ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s in state: %w", addr, err)
	}
	if p.opts.SkipRefresh {
		return stored, nil
	}
	p.e.emit(Event{Type: RefreshStart, Addr: addr, ID: idOf(stored)})
	plain, _ := stored.UnmarkDeep()
	fresh, err := prov.ReadResource(ctx, addr.Type, plain)
	if err != nil {
		return cty.NilVal, fmt.Errorf("refresh: %w", err)
	}
	fresh = markSensitive(sch, fresh)
	p.e.emit(Event{Type: RefreshDone, Addr: addr, ID: idOf(fresh)})
	p.recordDrift(addr, sch, stored, fresh)
	return fresh, nil
}

// adopt looks up the object an interrupted apply was creating when it
// stopped (even with -refresh=false: state has no attributes for it).
// Found, it becomes the prior object and the plan lists the adoption;
// absent, there is no prior object and the plan creates it.
func (p *planner) adopt(ctx context.Context, prov provider.Provider, sch *provider.Schema, addr state.Address, id string) (cty.Value, error) {
	p.e.emit(Event{Type: RefreshStart, Addr: addr, ID: id})
	v, err := prov.ImportResource(ctx, addr.Type, id)
	switch {
	case errors.Is(err, provider.ErrNoObject):
		p.e.emit(Event{Type: RefreshDone, Addr: addr})
		return cty.NullVal(sch.ImpliedType()), nil
	case err != nil:
		return cty.NilVal, fmt.Errorf("look up %q, which an interrupted apply was creating: %w", id, err)
	}
	v = markSensitive(sch, v)
	p.e.emit(Event{Type: RefreshDone, Addr: addr, ID: idOf(v)})
	p.mu.Lock()
	p.plan.Adopted = append(p.plan.Adopted, Adoption{Addr: addr, ImportID: id})
	p.mu.Unlock()
	return v, nil
}

func (p *planner) recordDrift(addr state.Address, sch *provider.Schema, stored, fresh cty.Value) {
	switch {
	case fresh.IsNull():
		p.addDrift(&Change{Addr: addr, Action: Delete, Before: stored, After: fresh, Schema: sch})
	case !valuesEqual(stored, fresh):
		p.addDrift(&Change{Addr: addr, Action: Update, Before: stored, After: fresh, Schema: sch})
	}
}

// ignoreChanges keeps the prior value of attributes the lifecycle says to
// ignore, so changes made outside airctl to them are not undone.
func ignoreChanges(lc config.Lifecycle, cfgVal, prior cty.Value) cty.Value {
	if lc.IgnoreAllChanges {
		return prior
	}
	if len(lc.IgnoreChanges) == 0 {
		return cfgVal
	}
	ignored := make([]cty.Path, 0, len(lc.IgnoreChanges))
	for _, t := range lc.IgnoreChanges {
		ignored = append(ignored, traversalPath(t))
	}
	v, _ := cty.Transform(cfgVal, func(path cty.Path, v cty.Value) (cty.Value, error) {
		for _, ig := range ignored {
			if path.Equals(ig) {
				if old, err := ig.Apply(prior); err == nil {
					return old, nil
				}
			}
		}
		return v, nil
	})
	return v
}

func traversalPath(t hcl.Traversal) cty.Path {
	var p cty.Path
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			p = p.GetAttr(s.Name)
		case hcl.TraverseAttr:
			p = p.GetAttr(s.Name)
		case hcl.TraverseIndex:
			p = p.Index(s.Key)
		}
	}
	return p
}

func preventDestroy(r *config.Resource, ch *Change) error {
	if !r.Lifecycle.PreventDestroy || (ch.Action != Delete && !ch.Action.IsReplace()) {
		return nil
	}
	rng := r.DeclRange
	if r.Lifecycle.DeclRange != nil {
		rng = *r.Lifecycle.DeclRange
	}
	return DiagnosticsError{{
		Severity: hcl.DiagError,
		Summary:  "Instance cannot be destroyed",
		Detail:   fmt.Sprintf("%s has lifecycle.prevent_destroy set, but the plan would destroy it (%s). Remove prevent_destroy or change the plan.", ch.Addr, ch.Action),
		Subject:  rng.Ptr(),
	}}
}

// dependencies are the resources r refers to, recorded in state so a
// destroy knows the order after r leaves the configuration.
func dependencies(r *config.Resource) []string {
	seen := map[string]bool{}
	var out []string
	for _, ref := range append(append([]config.Reference{}, r.References...), r.DependsOn...) {
		if (ref.Kind == config.RefResource || ref.Kind == config.RefDataSource) && !seen[ref.Addr] {
			seen[ref.Addr] = true
			out = append(out, ref.Addr)
		}
	}
	return sortedStrings(out)
}

// planRemovedInstances deletes instances whose count index or for_each key
// left the configuration.
func (p *planner) planRemovedInstances(ctx context.Context, prov provider.Provider, sch *provider.Schema, addr state.Address, insts []instance) error {
	res := p.prior.Resource(addr)
	if res == nil {
		return nil
	}
	wanted := map[state.IndexKey]bool{}
	for _, in := range insts {
		wanted[in.key] = true
	}
	var errs []error
	for _, inst := range res.Instances {
		if !wanted[inst.IndexKey] {
			errs = append(errs, p.planDelete(ctx, prov, sch, addr.Instance(inst.IndexKey), res.Provider, inst, "no longer in the configuration"))
		}
	}
	return errors.Join(errs...)
}

// planOrphan deletes every instance of a resource that left the config.
func (p *planner) planOrphan(ctx context.Context, key string) error {
	return p.planDeleteAll(ctx, key, "no longer in the configuration")
}

// planDestroyNode plans deleting every instance of one resource in state.
func (p *planner) planDestroyNode(ctx context.Context, key string) error {
	return p.planDeleteAll(ctx, key, "destroy")
}

func (p *planner) planDeleteAll(ctx context.Context, key, reason string) error {
	addr, err := state.ParseAddress(key)
	if err != nil {
		return err
	}
	res := p.prior.Resource(addr)
	if res == nil || addr.Mode == state.Data {
		return nil // data sources leave state at apply without a provider call
	}
	prov, sch, err := p.provider(stateProviderAddr(res.Provider, res.Type), res.Type, state.Managed)
	if err != nil {
		return err
	}
	var errs []error
	for _, inst := range res.Instances {
		errs = append(errs, p.planDelete(ctx, prov, sch, addr.Instance(inst.IndexKey), res.Provider, inst, reason))
	}
	return errors.Join(errs...)
}

// planDelete plans the deletion of one existing object; one already gone
// is forgotten without a provider call.
func (p *planner) planDelete(ctx context.Context, prov provider.Provider, sch *provider.Schema, addr state.Address, providerAddr string, inst *state.Instance, reason string) error {
	before, err := p.refresh(ctx, prov, sch, addr, inst)
	if err != nil {
		return err
	}
	ch := &Change{Addr: addr, Provider: stateProviderAddr(providerAddr, addr.Type), Action: Delete, Before: before, After: cty.NullVal(sch.ImpliedType()), Reason: reason, Schema: sch}
	if before.IsNull() {
		ch.Action = NoOp
	}
	if r := p.e.Config.Resources[addr.Resource().String()]; r != nil {
		if err := preventDestroy(r, ch); err != nil {
			return err
		}
	}
	p.addChange(ch)
	return nil
}

func (p *planner) planOutput(name string) error {
	o := p.e.Config.Outputs[name]
	oc := &OutputChange{Name: name, Sensitive: o.Sensitive, Before: cty.NilVal}
	if prev, ok := p.prior.Outputs[name]; ok {
		if v, err := prev.CtyValue(); err == nil {
			oc.Before = v
		}
	}
	ctx, err := p.evalContext(o.References)
	if err != nil {
		return err
	}
	v, diags := o.Value.Value(ctx)
	if err := p.addDiags(diags); err != nil {
		return err
	}
	if marks.Contains(v) && !o.Sensitive {
		return DiagnosticsError{{
			Severity: hcl.DiagError, Summary: "Output refers to sensitive values",
			Detail:  fmt.Sprintf("Output %q uses sensitive values; add `sensitive = true` to the output block to show it as (sensitive value).", name),
			Subject: o.Value.Range().Ptr(),
		}}
	}
	oc.After = v
	p.mu.Lock()
	p.plan.Outputs = append(p.plan.Outputs, oc)
	p.mu.Unlock()
	return nil
}

// withInstance names the instance in an error when the walk's node name
// (the resource address) would not say which one failed.
func withInstance(addr state.Address, err error) error {
	if err == nil || addr.Key.IsZero() {
		return err
	}
	return fmt.Errorf("%s: %w", addr, err)
}
