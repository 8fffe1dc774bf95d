package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// planData reads a data source now when its configuration is known, and
// defers the read to apply (shown as "will be read during apply") when it
// depends on values only apply can tell.
func (p *planner) planData(ctx context.Context, r *config.Resource) error {
	values, err := p.readData(ctx, r, func(ch *Change) { p.addChange(ch) }, true)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.data[r.Addr()] = aggregate(r, values)
	p.mu.Unlock()
	return nil
}

// readData evaluates and reads every instance of a data source. At plan
// time (deferOK) an instance whose config is not wholly known gets an
// unknown value and a Read change; at apply time every read happens.
func (w *walker) readData(ctx context.Context, r *config.Resource, record func(*Change), deferOK bool) (map[state.IndexKey]cty.Value, error) {
	addr := state.Address{Mode: state.Data, Type: r.Type, Name: r.Name}
	prov, sch, err := w.provider(r.ProviderAddr(), r.Type, state.Data)
	if err != nil {
		return nil, err
	}
	evalCtx, err := w.evalContext(r.References)
	if err != nil {
		return nil, err
	}
	insts, err := expand(r, evalCtx)
	if err != nil {
		return nil, err
	}
	values := map[state.IndexKey]cty.Value{}
	for _, in := range insts {
		ch, err := w.readDataInstance(ctx, prov, sch, r, addr.Instance(in.key), in, deferOK)
		if err != nil {
			return nil, withInstance(addr.Instance(in.key), err)
		}
		record(ch)
		values[in.key] = ch.After
	}
	return values, nil
}

func (w *walker) readDataInstance(ctx context.Context, prov provider.Provider, sch *provider.Schema, r *config.Resource, addr state.Address, in instance, deferOK bool) (*Change, error) {
	cfgVal, err := decodeBody(r.Config, sch, in.ctx)
	if err != nil {
		return nil, err
	}
	ch := &Change{Addr: addr, Provider: r.ProviderAddr(), Before: cty.NullVal(sch.ImpliedType()), Schema: sch, Action: NoOp, Dependencies: dependencies(r)}
	if !cfgVal.IsWhollyKnown() && deferOK {
		ch.Action, ch.After = Read, cty.UnknownVal(sch.ImpliedType())
		return ch, nil
	}
	release, err := w.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	plain, cfgMarks := cfgVal.UnmarkDeepWithPaths()
	start := time.Now()
	w.e.emit(Event{Type: ApplyStart, Addr: addr, Action: Read})
	val, err := prov.ReadDataSource(ctx, r.Type, plain)
	if err != nil {
		w.e.emit(Event{Type: ApplyErrored, Addr: addr, Action: Read, Elapsed: time.Since(start), Err: err})
		return nil, fmt.Errorf("read data source: %w", err)
	}
	w.e.emit(Event{Type: ApplyDone, Addr: addr, Action: Read, Elapsed: time.Since(start), ID: idOf(val)})
	ch.After = markSensitive(sch, val.MarkWithPaths(cfgMarks))
	return ch, nil
}
