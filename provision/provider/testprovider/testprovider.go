// Package testprovider is a provider for engine tests and benchmarks. Its
// resources live in an in-memory World, and Go knobs inject failures,
// count operations, measure concurrency and hold operations at gates, so
// engine tests can prove parallelism bounds, interruption and drift
// handling deterministically, without sleeps.
//
// Types:
//   - test_thing: name (required, forces replacement), size and tags
//     (updatable), labels (computed from tags), id (computed).
//   - test_slow: test_thing plus sleep_ms; create, update and delete take
//     sleep_ms milliseconds (or the provider's sleep_ms), for benchmarks
//     of walk overhead against the critical path.
//   - data test_lookup: name in, value out (World.SetLookup, or
//     "value-of-<name>").
package testprovider

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// Provider is the test provider. Its knobs (Inject, FailCreate, Block,
// SetHook) and counters (CountOps, MaxConcurrentOps) are safe to use while
// operations run.
type Provider struct {
	control
	simple  *provider.Simple
	world   *World
	sleepMS atomic.Int64 // provider-level default delay of test_slow
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider with its own empty World.
func New() *Provider { return NewWithWorld(NewWorld()) }

// NewWithWorld returns a provider acting on w, so that several provider
// instances (aliases, or an engine re-run after an interruption) see one
// cloud.
func NewWithWorld(w *World) *Provider {
	p := &Provider{world: w}
	p.simple = &provider.Simple{
		ProviderSchema: &provider.Schema{Attributes: map[string]*provider.Attribute{
			"sleep_ms": {Type: cty.Number, Optional: true, Description: "Default delay of test_slow operations."},
		}},
		ConfigureFunc: func(_ context.Context, config cty.Value) error {
			n, _ := provider.Int(config, "sleep_ms")
			p.sleepMS.Store(n)
			return nil
		},
		Resources: map[string]*provider.Resource{
			"test_thing": p.thingResource("test_thing", false),
			"test_slow":  p.thingResource("test_slow", true),
		},
		DataSources: map[string]*provider.DataSource{"test_lookup": p.lookupDataSource()},
	}
	return p
}

// World is the provider's in-memory cloud.
func (p *Provider) World() *World { return p.world }

// MutateOutside changes an object behind airctl's back (see World).
func (p *Provider) MutateOutside(id string, attrs map[string]cty.Value) error {
	return p.world.MutateOutside(id, attrs)
}

// DeleteOutside removes an object behind airctl's back (see World).
func (p *Provider) DeleteOutside(id string) error { return p.world.DeleteOutside(id) }

// Validate checks the provider's schemas.
func (p *Provider) Validate() error { return p.simple.Validate() }

// Schema implements provider.Provider.
func (p *Provider) Schema() provider.ProviderSchema { return p.simple.Schema() }

// Configure implements provider.Provider.
func (p *Provider) Configure(ctx context.Context, config cty.Value) error {
	_, err := p.run(ctx, OpConfigure, "", func() (cty.Value, error) {
		return cty.NilVal, p.simple.Configure(ctx, config)
	})
	return err
}

// PlanResource implements provider.Provider.
func (p *Provider) PlanResource(ctx context.Context, req provider.PlanRequest) (provider.PlanResponse, error) {
	var resp provider.PlanResponse
	_, err := p.run(ctx, OpPlan, nameOf(req.Config, req.Prior), func() (v cty.Value, err error) {
		resp, err = p.simple.PlanResource(ctx, req)
		return resp.Planned, err
	})
	return resp, err
}

// ApplyResource implements provider.Provider.
func (p *Provider) ApplyResource(ctx context.Context, req provider.ApplyRequest) (cty.Value, error) {
	kind := OpUpdate
	switch {
	case isNull(req.Prior):
		kind = OpCreate
	case isNull(req.Planned):
		kind = OpDelete
	}
	v, err := p.run(ctx, kind, nameOf(req.Planned, req.Prior), func() (cty.Value, error) {
		return p.simple.ApplyResource(ctx, req)
	})
	if v == cty.NilVal {
		v = req.Prior // failed before any change: the object is as it was
	}
	return v, err
}

// ReadResource implements provider.Provider.
func (p *Provider) ReadResource(ctx context.Context, typeName string, current cty.Value) (cty.Value, error) {
	v, err := p.run(ctx, OpRead, nameOf(current), func() (cty.Value, error) {
		return p.simple.ReadResource(ctx, typeName, current)
	})
	if err != nil && v == cty.NilVal {
		v = current
	}
	return v, err
}

// ReadDataSource implements provider.Provider.
func (p *Provider) ReadDataSource(ctx context.Context, typeName string, config cty.Value) (cty.Value, error) {
	return p.run(ctx, OpReadData, nameOf(config), func() (cty.Value, error) {
		return p.simple.ReadDataSource(ctx, typeName, config)
	})
}

// ImportResource implements provider.Provider. The gate and fault name of
// an import is the ID.
func (p *Provider) ImportResource(ctx context.Context, typeName, id string) (cty.Value, error) {
	return p.run(ctx, OpImport, id, func() (cty.Value, error) {
		return p.simple.ImportResource(ctx, typeName, id)
	})
}

// nameOf is the name attribute of the first value that has a known one:
// what faults and gates match on.
func nameOf(vs ...cty.Value) string {
	for _, v := range vs {
		if isNull(v) {
			continue
		}
		if s := provider.String(v, "name"); s != "" {
			return s
		}
	}
	return ""
}

func isNull(v cty.Value) bool {
	return v == cty.NilVal || v.IsNull()
}

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
