package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// ErrStalePlan: the state changed since the saved plan was made.
var ErrStalePlan = errors.New("saved plan is stale")

// applier is the walk that carries out a Plan, writing state after every
// completed operation so an interruption never forgets an object.
type applier struct {
	*walker
	plan  *Plan
	st    *stateWriter
	byRes map[string][]*Change // by resource address
	// deposed are old objects of create_before_destroy replacements; they
	// are deleted after the walk, once dependents point at the new ones.
	deposed []*Change
}

// Apply carries out plan and returns the new state. It re-plans each
// instance with the values apply has made known and refuses a provider
// answer that contradicts the plan.
func (e *Engine) Apply(ctx context.Context, plan *Plan) (*state.State, error) {
	if plan.Errored {
		return nil, errors.New("the plan is incomplete because planning failed; fix the errors and plan again")
	}
	st, err := e.readState(ctx)
	if err != nil {
		return nil, err
	}
	if st.Lineage != plan.PriorLineage || st.Serial != plan.PriorSerial {
		return nil, fmt.Errorf("%w: it was made from state serial %d (lineage %q), the state is now serial %d (lineage %q); run plan again", ErrStalePlan, plan.PriorSerial, plan.PriorLineage, st.Serial, st.Lineage)
	}
	a := &applier{walker: newWalker(e), plan: plan, st: newStateWriter(ctx, e.Backend, st), byRes: map[string][]*Change{}}
	for _, c := range plan.Changes {
		k := c.Addr.Resource().String()
		a.byRes[k] = append(a.byRes[k], c)
	}
	err = a.walk(ctx)
	err = errors.Join(err, a.deleteDeposed(ctx), a.finish(err == nil))
	return st, errors.Join(err, a.st.close())
}

func (a *applier) walk(ctx context.Context) error {
	var st *state.State
	a.st.read(func(s *state.State) { st = s })
	return a.e.walkAll(ctx, st, a.plan.Destroy, a.plan.Targets, a.applyNode, a.applyChanges)
}

func (a *applier) applyNode(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, varPrefix):
		return nil
	case strings.HasPrefix(key, localPrefix):
		return a.evalLocal(strings.TrimPrefix(key, localPrefix))
	case strings.HasPrefix(key, providerPrefix):
		return a.configureProvider(ctx, strings.TrimPrefix(key, providerPrefix))
	case strings.HasPrefix(key, outputPrefix):
		return a.applyOutput(ctx, strings.TrimPrefix(key, outputPrefix))
	}
	r := cfgResource(a.e.Config, key)
	var err error
	switch {
	case r == nil:
		return a.applyChanges(ctx, key)
	case r.Mode == config.DataResource:
		err = a.applyData(ctx, r)
	default:
		err = a.applyResource(ctx, r)
	}
	if err == nil && a.e.ResourceApplied != nil {
		var st *state.State
		a.st.read(func(s *state.State) { st = s.DeepCopy() })
		a.e.ResourceApplied(key, st)
	}
	return err
}

// applyChanges carries out the planned changes of a resource that has no
// configuration (orphans, destroy); data sources simply leave state.
func (a *applier) applyChanges(ctx context.Context, key string) error {
	if strings.HasPrefix(key, dataPrefix) {
		addr, err := state.ParseAddress(key)
		if err != nil {
			return err
		}
		return a.st.update(func(st *state.State) bool { return st.RemoveResource(addr) })
	}
	return a.each(ctx, a.byRes[key], func(ch *Change) error {
		_, err := a.applyOne(ctx, ch, nil)
		return err
	})
}

func (a *applier) applyResource(ctx context.Context, r *config.Resource) error {
	evalCtx, err := a.evalContext(r.References)
	if err != nil {
		return err
	}
	insts, err := expand(r, evalCtx)
	if err != nil {
		return err
	}
	byKey := make(map[state.IndexKey]instance, len(insts))
	for _, in := range insts {
		byKey[in.key] = in
	}
	values := make(map[state.IndexKey]cty.Value, len(insts))
	var mu sync.Mutex
	err = a.each(ctx, a.byRes[r.Addr()], func(ch *Change) error {
		in, wanted := byKey[ch.Addr.Key]
		v, err := a.applyOne(ctx, ch, instanceFor(r, in, wanted))
		if err == nil && wanted {
			mu.Lock()
			values[ch.Addr.Key] = v
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(values) != len(insts) {
		return fmt.Errorf("%s: the configuration now has instances the plan does not (%d planned, %d configured); run plan again", r.Addr(), len(values), len(insts))
	}
	a.mu.Lock()
	a.resources[r.Addr()] = aggregate(r, values)
	a.mu.Unlock()
	return nil
}

// target is the configuration one change is applied with.
type target struct {
	r  *config.Resource
	in instance
}

func instanceFor(r *config.Resource, in instance, wanted bool) *target {
	if !wanted {
		return nil
	}
	return &target{r: r, in: in}
}

// each runs fn for every change in parallel, within the provider slots.
func (a *applier) each(ctx context.Context, changes []*Change, fn func(*Change) error) error {
	var g errgroup.Group
	for _, ch := range changes {
		g.Go(func() error {
			release, err := a.acquire(ctx)
			if err != nil {
				return err
			}
			defer release()
			return withInstance(ch.Addr, fn(ch))
		})
	}
	return g.Wait()
}

// applyOne performs one planned change and returns the object's value
// afterwards (null once deleted).
func (a *applier) applyOne(ctx context.Context, ch *Change, t *target) (cty.Value, error) {
	switch ch.Action {
	case NoOp:
		return ch.Before, a.keepRefreshed(ctx, ch)
	case Delete:
		return ch.After, a.applyDelete(ctx, ch)
	case Create, Update:
		return a.applyCreateOrUpdate(ctx, ch, t, ch.Action)
	case DeleteThenCreate:
		if err := a.applyDelete(ctx, ch); err != nil {
			return cty.NilVal, err
		}
		return a.applyCreateOrUpdate(ctx, ch, t, Create)
	case CreateThenDelete:
		v, err := a.applyCreateOrUpdate(ctx, ch, t, Create)
		if err == nil {
			a.depose(ch)
		}
		return v, err
	}
	return cty.NilVal, fmt.Errorf("unexpected action %q", ch.Action)
}
