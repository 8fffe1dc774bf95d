package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/graph"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// applyCreateOrUpdate re-plans with the now-known values, checks the result
// against the saved plan, applies it and saves the new object.
func (a *applier) applyCreateOrUpdate(ctx context.Context, ch *Change, t *target, action Action) (cty.Value, error) {
	if t == nil {
		return cty.NilVal, fmt.Errorf("the configuration no longer has this instance; run plan again")
	}
	prov, sch, err := a.provider(ch.Provider, ch.Addr.Type, state.Managed)
	if err != nil {
		return cty.NilVal, err
	}
	cfgVal, err := decodeBody(t.r.Config, sch, t.in.ctx)
	if err != nil {
		return cty.NilVal, err
	}
	prior := cty.NullVal(sch.ImpliedType())
	if action == Update {
		prior = ch.Before
		cfgVal = ignoreChanges(t.r.Lifecycle, cfgVal, prior)
	}
	resp, err := planWith(ctx, prov, ch.Addr.Type, prior, cfgVal)
	if err != nil {
		return cty.NilVal, err
	}
	if err := checkFinalPlan(ch, action, resp); err != nil {
		return cty.NilVal, err
	}
	if action == Create {
		if err := a.recordIntent(ch, prov, resp.Planned); err != nil {
			return cty.NilVal, err
		}
	}
	_, cfgMarks := cfgVal.UnmarkDeepWithPaths()
	newVal, err := a.call(ctx, ch.Addr, action, func() (cty.Value, error) {
		plainPrior, _ := prior.UnmarkDeep()
		plainPlanned, _ := resp.Planned.UnmarkDeep()
		return prov.ApplyResource(ctx, provider.ApplyRequest{TypeName: ch.Addr.Type, Prior: plainPrior, Planned: plainPlanned})
	})
	if err != nil && action == Create && (newVal == cty.NilVal || newVal.IsNull()) {
		err = errors.Join(err, a.settleIntent(ctx, ch, prov, sch, err))
	}
	if err != nil {
		return cty.NilVal, a.saveAfterError(ctx, ch, sch, newVal, action, err)
	}
	newVal = markSensitive(sch, newVal.MarkWithPaths(cfgMarks))
	return newVal, a.save(ctx, ch, newVal, "")
}

// recordIntent writes a Creating instance holding the import ID the new
// object will have, and waits until it is durable, before the create is
// sent: if the process dies before the result is recorded (SIGKILL, power
// loss), the next plan finds the object by that ID and adopts it instead
// of meeting "already exists" or leaving it orphaned. Terraform has no
// such record (hashicorp/terraform#20718). The wait is a state write
// (after any write already under way), shared by creates that start
// together; at real GCP latencies it is noise. There is no intent when the
// provider cannot tell the ID before the object exists, nor for a
// create_before_destroy replacement, whose address still holds the old
// object.
func (a *applier) recordIntent(ch *Change, prov provider.Provider, planned cty.Value) error {
	ip, ok := prov.(provider.ImportIDPlanner)
	if !ok {
		return nil
	}
	id, ok := ip.PlannedImportID(ch.Addr.Type, planned)
	if !ok {
		return nil
	}
	err := a.st.updateDurable(func(st *state.State) bool {
		if cur := st.Instance(ch.Addr); cur != nil && (cur.Status != state.Creating || cur.ImportID == id) {
			return false
		}
		st.SetInstance(ch.Addr, ch.Provider, &state.Instance{
			Status: state.Creating, ImportID: id,
			Dependencies: ch.Dependencies, CreateBeforeDestroy: ch.CreateBeforeDestroy,
		})
		return true
	})
	if err != nil {
		return fmt.Errorf("record the create of %q in state before sending it (nothing was created): %w", id, err)
	}
	return nil
}

// intentLookupTimeout bounds the lookup after a failed create, which
// runs even when the apply was cancelled.
const intentLookupTimeout = 30 * time.Second

// settleIntent decides the intent of a create that failed without
// returning an object. The request may still have reached the API (an
// answer lost, the apply cancelled), so the object is looked up by its
// import ID: found, it is recorded tainted (the next plan replaces it);
// absent, the intent is dropped. A create that met someone else's object
// drops the intent without looking: that object is never adopted. If the
// lookup fails the intent stays for the next plan to settle.
func (a *applier) settleIntent(ctx context.Context, ch *Change, prov provider.Provider, sch *provider.Schema, createErr error) error {
	id := ""
	a.st.read(func(st *state.State) {
		if cur := st.Instance(ch.Addr); cur != nil && cur.Status == state.Creating {
			id = cur.ImportID
		}
	})
	switch {
	case id == "":
		return nil
	case errors.Is(createErr, provider.ErrAlreadyExists):
		return a.dropIntent(ch.Addr)
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), intentLookupTimeout)
	defer cancel()
	if a.e.Abort != nil {
		defer context.AfterFunc(a.e.Abort, cancel)()
	}
	v, err := prov.ImportResource(lctx, ch.Addr.Type, id)
	switch {
	case errors.Is(err, provider.ErrNoObject):
		return a.dropIntent(ch.Addr)
	case err != nil:
		return nil
	}
	return a.save(ctx, ch, markSensitive(sch, v), state.Tainted)
}

// dropIntent forgets a Creating instance whose create certainly made
// nothing.
func (a *applier) dropIntent(addr state.Address) error {
	return a.st.update(func(st *state.State) bool {
		if cur := st.Instance(addr); cur != nil && cur.Status == state.Creating {
			return st.RemoveInstance(addr)
		}
		return false
	})
}

// checkFinalPlan refuses a re-plan that disagrees with the saved plan: a
// new replacement, or a value known at plan time that changed.
func checkFinalPlan(ch *Change, action Action, resp provider.PlanResponse) error {
	if action == Update && len(resp.RequiresReplace) > 0 {
		return fmt.Errorf("provider produced an inconsistent final plan: the update now requires replacement (%s); run plan again", pathsString(resp.RequiresReplace))
	}
	if path, ok := knownValuesMatch(ch.After, resp.Planned, nil); !ok {
		return fmt.Errorf("provider produced an inconsistent final plan: %s changed since the plan; run plan again", pathString(path))
	}
	return nil
}

// knownValuesMatch checks that every value known in planned is the same in
// final; unknowns in planned may become anything.
func knownValuesMatch(planned, final cty.Value, path cty.Path) (cty.Path, bool) {
	planned, _ = planned.UnmarkDeep()
	final, _ = final.UnmarkDeep()
	switch {
	case !planned.IsKnown():
		return nil, true
	case planned.IsWhollyKnown():
		if !final.IsWhollyKnown() || !planned.Equals(final).True() {
			return path, false
		}
		return nil, true
	case planned.IsNull() != final.IsNull():
		return path, false
	case planned.Type().IsObjectType() && final.Type().IsObjectType():
		for name := range planned.Type().AttributeTypes() {
			if !final.Type().HasAttribute(name) {
				return path.GetAttr(name), false
			}
			if p, ok := knownValuesMatch(planned.GetAttr(name), final.GetAttr(name), path.GetAttr(name)); !ok {
				return p, false
			}
		}
	}
	return nil, true // collections with unknown parts: only apply can tell
}

// call runs one provider operation with start, progress and end events.
func (a *applier) call(ctx context.Context, addr state.Address, action Action, op func() (cty.Value, error)) (cty.Value, error) {
	start := time.Now()
	a.e.emit(Event{Type: ApplyStart, Addr: addr, Action: action})
	stop := a.progress(addr, action, start)
	v, err := op()
	stop()
	ev := Event{Type: ApplyDone, Addr: addr, Action: action, Elapsed: time.Since(start), ID: idOf(v)}
	if err != nil {
		ev.Type, ev.Err = ApplyErrored, err
	}
	a.e.emit(ev)
	return v, err
}

// progress emits "still creating" events until stopped.
func (a *applier) progress(addr state.Address, action Action, start time.Time) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(a.e.progressInterval())
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				a.e.emit(Event{Type: ApplyProgress, Addr: addr, Action: action, Elapsed: time.Since(start)})
			}
		}
	}()
	return func() { close(done) }
}

// saveAfterError keeps whatever the provider says exists after a failed
// create or update, tainted so the next plan replaces it.
func (a *applier) saveAfterError(ctx context.Context, ch *Change, sch *provider.Schema, v cty.Value, action Action, opErr error) error {
	if v == cty.NilVal || v.IsNull() || !v.IsWhollyKnown() {
		return opErr
	}
	status := ""
	if action == Create {
		status = state.Tainted
	}
	if err := a.save(ctx, ch, markSensitive(sch, v), status); err != nil {
		return fmt.Errorf("%w; and saving the partial object failed: %v", opErr, err)
	}
	return opErr
}

func (a *applier) applyDelete(ctx context.Context, ch *Change) error {
	if ch.Before.IsNull() {
		return a.forget(ctx, ch.Addr)
	}
	if err := a.deleteObject(ctx, ch); err != nil {
		return err
	}
	return a.forget(ctx, ch.Addr)
}

// depose records the old object of a create_before_destroy replacement
// whose new object now exists.
func (a *applier) depose(ch *Change) {
	a.mu.Lock()
	a.deposed = append(a.deposed, ch)
	a.mu.Unlock()
}

// deleteDeposed deletes the old objects of create_before_destroy
// replacements after the walk: by then their dependents (a proxy using a
// certificate) have been updated to the new objects, which a delete right
// after the create would have broken ("resource in use"). Old objects that
// depend on other old objects go first. State already holds the new
// objects, so a failure names the old object for the user to remove.
func (a *applier) deleteDeposed(ctx context.Context) error {
	if len(a.deposed) == 0 {
		return nil
	}
	g := graph.New[string]()
	byAddr := map[string]*Change{}
	for _, ch := range a.deposed {
		byAddr[ch.Addr.String()] = ch
		g.Add(ch.Addr.String())
	}
	for _, ch := range a.deposed {
		for _, dep := range ch.Dependencies {
			for addr, other := range byAddr {
				if other.Addr.Resource().String() == dep {
					g.Connect(addr, ch.Addr.String()) // the dependency goes after its dependent
				}
			}
		}
	}
	return graph.Walk(context.WithoutCancel(ctx), g, a.e.walkOptions(), func(ctx context.Context, addr string) error {
		ch := byAddr[addr]
		if err := a.deleteObject(ctx, ch); err != nil {
			return fmt.Errorf("the replacement was created, but deleting the old object (id %q) failed; delete it by hand: %w", idOf(ch.Before), err)
		}
		return nil
	}).Err()
}

// deleteObject asks the provider to delete ch.Before.
func (a *applier) deleteObject(ctx context.Context, ch *Change) error {
	prov, sch, err := a.provider(ch.Provider, ch.Addr.Type, state.Managed)
	if err != nil {
		return err
	}
	_, err = a.call(ctx, ch.Addr, Delete, func() (cty.Value, error) {
		prior, _ := ch.Before.UnmarkDeep()
		return prov.ApplyResource(ctx, provider.ApplyRequest{TypeName: ch.Addr.Type, Prior: prior, Planned: cty.NullVal(sch.ImpliedType())})
	})
	return err
}

// keepRefreshed writes a refreshed value (or forgets an object found gone)
// for an instance that needs no change.
func (a *applier) keepRefreshed(ctx context.Context, ch *Change) error {
	if ch.Before.IsNull() {
		return a.forget(ctx, ch.Addr)
	}
	if ch.Addr.Mode == state.Data {
		return a.save(ctx, ch, ch.Before, "")
	}
	var inst *state.Instance
	a.st.read(func(st *state.State) { inst = st.Instance(ch.Addr) })
	if inst != nil {
		if stored, err := inst.Value(ch.Schema.ImpliedType()); err == nil && valuesEqual(stored, ch.Before) {
			return nil
		}
	}
	return a.save(ctx, ch, ch.Before, "")
}

func (a *applier) applyData(ctx context.Context, r *config.Resource) error {
	planned := map[state.IndexKey]*Change{}
	for _, ch := range a.byRes[r.Addr()] {
		planned[ch.Addr.Key] = ch
	}
	values, err := a.readData(ctx, r, func(ch *Change) {}, false)
	if err != nil {
		return err
	}
	for key, v := range values {
		ch := planned[key]
		if ch == nil {
			ch = &Change{Addr: state.Address{Mode: state.Data, Type: r.Type, Name: r.Name, Key: key}, Provider: r.ProviderAddr(), Dependencies: dependencies(r)}
		}
		if err := a.save(ctx, ch, v, ""); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.data[r.Addr()] = aggregate(r, values)
	a.mu.Unlock()
	return nil
}

func (a *applier) applyOutput(ctx context.Context, name string) error {
	o := a.e.Config.Outputs[name]
	evalCtx, err := a.evalContext(o.References)
	if err != nil {
		return err
	}
	v, diags := o.Value.Value(evalCtx)
	if err := a.addDiags(diags); err != nil {
		return err
	}
	if !v.IsWhollyKnown() {
		return nil // only a targeted apply leaves it unknown; keep the old value
	}
	out, err := state.NewOutput(v, o.Sensitive)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	return a.st.update(func(st *state.State) bool {
		st.Outputs[name] = out
		return true
	})
}

// finish drops outputs and data sources the configuration no longer has
// (all outputs after a full destroy).
func (a *applier) finish(ok bool) error {
	if !ok || len(a.plan.Targets) > 0 {
		return nil
	}
	return a.st.update(func(st *state.State) bool {
		for name := range st.Outputs {
			if a.plan.Destroy || a.e.Config.Outputs[name] == nil {
				delete(st.Outputs, name)
			}
		}
		return true // the final write also records a refreshed no-op apply
	})
}

func (a *applier) save(ctx context.Context, ch *Change, v cty.Value, status string) error {
	inst := &state.Instance{IndexKey: ch.Addr.Key, Status: status, Dependencies: ch.Dependencies, CreateBeforeDestroy: ch.CreateBeforeDestroy}
	if err := inst.SetValue(v); err != nil {
		return fmt.Errorf("record %s in state: %w", ch.Addr, err)
	}
	return a.st.update(func(st *state.State) bool {
		st.SetInstance(ch.Addr, ch.Provider, inst)
		return true
	})
}

func (a *applier) forget(ctx context.Context, addr state.Address) error {
	return a.st.update(func(st *state.State) bool { return st.RemoveInstance(addr) })
}

func pathString(p cty.Path) string {
	if len(p) == 0 {
		return "the object"
	}
	s := ""
	for _, step := range p {
		switch st := step.(type) {
		case cty.GetAttrStep:
			if s != "" {
				s += "."
			}
			s += st.Name
		case cty.IndexStep:
			s += fmt.Sprintf("[%s]", st.Key.GoString())
		}
	}
	return s
}

func pathsString(ps []cty.Path) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += ", "
		}
		out += pathString(p)
	}
	return out
}
