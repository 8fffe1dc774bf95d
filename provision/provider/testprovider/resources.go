package testprovider

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// managedLabel is added to every object's labels, so that labels differ
// from tags and tests can tell the computed value from the configured one.
const managedLabel = "managed-by"

func thingSchema(slow bool) *provider.Schema {
	s := &provider.Schema{Attributes: map[string]*provider.Attribute{
		"id":     {Type: cty.String, Computed: true},
		"name":   {Type: cty.String, Required: true, ForceNew: true},
		"size":   {Type: cty.Number, Optional: true},
		"tags":   {Type: cty.Map(cty.String), Optional: true},
		"labels": {Type: cty.Map(cty.String), Computed: true, Description: "tags plus managed-by = airctl"},
	}, Blocks: map[string]*provider.NestedBlock{
		// rule is a nested block (like a firewall's allow) so engine tests
		// can exercise blocks and dynamic blocks.
		"rule": {Nesting: provider.NestingList, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"port":     {Type: cty.Number, Required: true},
			"protocol": {Type: cty.String, Optional: true},
		}}},
	}}
	if slow {
		s.Attributes["sleep_ms"] = &provider.Attribute{Type: cty.Number, Optional: true, Description: "Delay of create, update and delete."}
	}
	return s
}

func (p *Provider) thingResource(typeName string, slow bool) *provider.Resource {
	s := thingSchema(slow)
	delay := func(ctx context.Context, v cty.Value) error {
		if !slow {
			return nil
		}
		return sleep(ctx, p.delayOf(v))
	}
	return &provider.Resource{
		Schema: s,
		// labels follow tags, so they are unknown whenever tags change.
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			if prior.IsNull() || provider.Changed(prior, plan.Planned, "tags") {
				plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"labels": cty.UnknownVal(cty.Map(cty.String))})
			}
			return nil
		},
		Create: func(ctx context.Context, planned cty.Value) (cty.Value, error) {
			if err := delay(ctx, planned); err != nil {
				return cty.NilVal, err
			}
			o, err := p.world.create(typeName, provider.String(planned, "name"), func(id string) cty.Value {
				return withLabels(provider.SetAttrs(planned, map[string]cty.Value{"id": cty.StringVal(id)}))
			})
			if err != nil {
				return cty.NilVal, err
			}
			return o.Value, nil
		},
		Read: func(_ context.Context, current cty.Value) (cty.Value, error) {
			o, ok := p.world.Get(provider.String(current, "id"))
			if !ok {
				return cty.NullVal(s.ImpliedType()), nil
			}
			return o.Value, nil
		},
		Update: func(ctx context.Context, _, planned cty.Value) (cty.Value, error) {
			if err := delay(ctx, planned); err != nil {
				return cty.NilVal, err
			}
			v := withLabels(planned)
			if err := p.world.update(provider.String(planned, "id"), v); err != nil {
				return cty.NilVal, err
			}
			return v, nil
		},
		Delete: func(ctx context.Context, prior cty.Value) error {
			if err := delay(ctx, prior); err != nil {
				return err
			}
			p.world.remove(provider.String(prior, "id"))
			return nil
		},
		Import: func(_ context.Context, id string) (cty.Value, error) {
			o, ok := p.world.Get(id)
			if !ok || o.Type != typeName {
				return cty.NilVal, fmt.Errorf("no %s with id %q: %w", typeName, id, ErrNotFound)
			}
			return o.Value, nil
		},
	}
}

func withLabels(v cty.Value) cty.Value {
	labels := map[string]string{}
	maps.Copy(labels, provider.StringMap(v, "tags"))
	labels[managedLabel] = "airctl"
	return provider.SetAttrs(v, map[string]cty.Value{"labels": provider.StringMapVal(labels)})
}

// delayOf is the resource's sleep_ms, else the provider's.
func (p *Provider) delayOf(v cty.Value) time.Duration {
	ms, ok := provider.Int(v, "sleep_ms")
	if !ok {
		ms = p.sleepMS.Load()
	}
	return time.Duration(ms) * time.Millisecond
}

func (p *Provider) lookupDataSource() *provider.DataSource {
	return &provider.DataSource{
		Schema: &provider.Schema{Attributes: map[string]*provider.Attribute{
			"name":  {Type: cty.String, Required: true},
			"value": {Type: cty.String, Computed: true},
			"id":    {Type: cty.String, Computed: true},
		}},
		Read: func(_ context.Context, config cty.Value) (cty.Value, error) {
			name := provider.String(config, "name")
			value, ok := p.world.lookup(name)
			if !ok {
				value = "value-of-" + name
			}
			return provider.SetAttrs(config, map[string]cty.Value{
				"value": cty.StringVal(value),
				"id":    cty.StringVal("lookup-" + name),
			}), nil
		},
	}
}
