package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_firewall. Import ID: projects/P/global/firewalls/NAME or
// NAME. Rules, ranges, tags, priority and description change in place
// (firewalls.update); name, network and direction replace.

var firewallRuleBlock = provider.Schema{Attributes: map[string]*provider.Attribute{
	"protocol": {Type: cty.String, Required: true},
	"ports":    {Type: cty.List(cty.String), Optional: true},
}}

var firewallSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":          {Type: cty.String, Required: true, ForceNew: true},
		"network":       {Type: cty.String, Required: true, ForceNew: true},
		"direction":     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"priority":      {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(1000)},
		"description":   {Type: cty.String, Optional: true},
		"disabled":      {Type: cty.Bool, Optional: true, Computed: true, Default: cty.False},
		"source_ranges": {Type: cty.Set(cty.String), Optional: true},
		"source_tags":   {Type: cty.Set(cty.String), Optional: true},
		"target_tags":   {Type: cty.Set(cty.String), Optional: true},
		"project":       {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"id":            {Type: cty.String, Computed: true},
		"self_link":     {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"allow": {Nesting: provider.NestingSet, Block: firewallRuleBlock},
		"deny":  {Nesting: provider.NestingSet, Block: firewallRuleBlock},
	},
}

func firewallFrom(v cty.Value, project string) *computepb.Firewall {
	f := &computepb.Firewall{
		Name:         proto.String(provider.String(v, "name")),
		Network:      proto.String(globalRef(project, "networks", provider.String(v, "network"))),
		Priority:     proto.Int32(int32(intOr(v, 1000, "priority"))),
		Disabled:     proto.Bool(provider.Bool(v, false, "disabled")),
		SourceRanges: strs(v, "source_ranges"),
		SourceTags:   strs(v, "source_tags"),
		TargetTags:   strs(v, "target_tags"),
		Description:  proto.String(provider.String(v, "description")),
	}
	if d := provider.String(v, "direction"); d != "" {
		f.Direction = proto.String(d)
	}
	for _, a := range elems(v, "allow") {
		f.Allowed = append(f.Allowed, &computepb.Allowed{IPProtocol: proto.String(provider.String(a, "protocol")), Ports: strs(a, "ports")})
	}
	for _, d := range elems(v, "deny") {
		f.Denied = append(f.Denied, &computepb.Denied{IPProtocol: proto.String(provider.String(d, "protocol")), Ports: strs(d, "ports")})
	}
	return f
}

// ruleSet is the allow/deny set from the API; no ports is null, as a
// configuration that leaves ports out decodes.
func ruleSet(protocols []string, ports [][]string) cty.Value {
	if len(protocols) == 0 {
		return cty.SetValEmpty(firewallRuleBlock.ImpliedType())
	}
	vals := make([]cty.Value, len(protocols))
	for i, p := range protocols {
		pv := cty.NullVal(cty.List(cty.String))
		if len(ports[i]) > 0 {
			pv = strList(ports[i])
		}
		vals[i] = provider.ObjectWith(&firewallRuleBlock, map[string]cty.Value{"protocol": cty.StringVal(p), "ports": pv})
	}
	return cty.SetVal(vals)
}

// optSet is a set(string) from the API, null when empty and unset before.
func optSet(prior cty.Value, attr string, ss []string) cty.Value {
	if len(ss) == 0 && provider.GetAttr(prior, attr).IsNull() {
		return cty.NullVal(cty.Set(cty.String))
	}
	return strSet(ss)
}

func firewallResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		f, found, err := get(ctx, g, "read firewall "+name, func(ctx context.Context) (*computepb.Firewall, error) {
			return c.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: project, Firewall: name})
		})
		if err != nil || !found {
			return cty.NullVal(firewallSchema.ImpliedType()), err
		}
		var ap, dp []string
		var aports, dports [][]string
		for _, a := range f.GetAllowed() {
			ap, aports = append(ap, a.GetIPProtocol()), append(aports, a.GetPorts())
		}
		for _, d := range f.GetDenied() {
			dp, dports = append(dp, d.GetIPProtocol()), append(dports, d.GetPorts())
		}
		return provider.ObjectWith(firewallSchema, map[string]cty.Value{
			"name":          cty.StringVal(f.GetName()),
			"network":       keepRef(provider.GetAttr(prior, "network"), f.GetNetwork()),
			"direction":     cty.StringVal(f.GetDirection()),
			"priority":      cty.NumberIntVal(int64(f.GetPriority())),
			"description":   optStr(f.GetDescription()),
			"disabled":      cty.BoolVal(f.GetDisabled()),
			"source_ranges": optSet(prior, "source_ranges", f.GetSourceRanges()),
			"source_tags":   optSet(prior, "source_tags", f.GetSourceTags()),
			"target_tags":   optSet(prior, "target_tags", f.GetTargetTags()),
			"project":       cty.StringVal(project),
			"id":            cty.StringVal(globalID(project, "firewalls", f.GetName())),
			"self_link":     cty.StringVal(f.GetSelfLink()),
			"allow":         ruleSet(ap, aports),
			"deny":          ruleSet(dp, dports),
		}), nil
	}
	return &provider.Resource{
		Schema: firewallSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "network")
			return nil
		},
		Create: g.createGlobal("google_compute_firewall", "firewall", "firewalls", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				return c.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: project, FirewallResource: firewallFrom(planned, project)})
			}),
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), provider.String(cur, "name"), cur)
		},
		Update: func(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
			c, err := g.computeAPI()
			if err != nil {
				return cty.NilVal, err
			}
			project, name := g.project(prior), provider.String(prior, "name")
			err = g.call(ctx, "update firewall "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.firewalls.Update(ctx, &computepb.UpdateFirewallRequest{Project: project, Firewall: name, FirewallResource: firewallFrom(planned, project)})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "firewall "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("firewall", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: project, Firewall: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "firewalls", name) }),
		Import:   importGlobal(g, "firewalls", firewallSchema, read),
	}
}
