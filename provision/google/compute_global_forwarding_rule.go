package google

import (
	"context"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_global_forwarding_rule. Import ID:
// projects/P/global/forwardingRules/NAME or NAME. target (setTarget) and
// labels (setLabels) change in place; the rest replaces it.

var forwardingRuleSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":                  {Type: cty.String, Required: true, ForceNew: true},
	"target":                {Type: cty.String, Required: true},
	"ip_address":            {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"ip_protocol":           {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"port_range":            {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"load_balancing_scheme": {Type: cty.String, Optional: true, Computed: true, Default: cty.StringVal("EXTERNAL"), ForceNew: true},
	"ip_version":            {Type: cty.String, Optional: true, ForceNew: true},
	"description":           {Type: cty.String, Optional: true, ForceNew: true},
	"labels":                {Type: cty.Map(cty.String), Optional: true},
	"project":               {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"id":                    {Type: cty.String, Computed: true},
	"self_link":             {Type: cty.String, Computed: true},
}}

// samePortRange: the API returns "443" as "443-443".
func samePortRange(configured, api string) bool {
	if configured == api {
		return true
	}
	lo, hi, ok := strings.Cut(api, "-")
	return ok && lo == hi && lo == configured
}

func forwardingRuleResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		fr, found, err := get(ctx, g, "read forwarding rule "+name, func(ctx context.Context) (*computepb.ForwardingRule, error) {
			return c.forwardingRules.Get(ctx, &computepb.GetGlobalForwardingRuleRequest{Project: project, ForwardingRule: name})
		})
		if err != nil || !found {
			return cty.NullVal(forwardingRuleSchema.ImpliedType()), err
		}
		portRange := cty.StringVal(fr.GetPortRange())
		if pr := provider.String(prior, "port_range"); pr != "" && samePortRange(pr, fr.GetPortRange()) {
			portRange = cty.StringVal(pr)
		}
		ip := cty.StringVal(fr.GetIPAddress())
		if pi := provider.String(prior, "ip_address"); pi != "" && (pi == fr.GetIPAddress() || strings.Contains(pi, "/")) {
			// An address given by reference comes back as its IP; the
			// two cannot be compared here, so keep the configured form.
			ip = cty.StringVal(pi)
		}
		return provider.ObjectWith(forwardingRuleSchema, map[string]cty.Value{
			"name":                  cty.StringVal(fr.GetName()),
			"target":                keepRef(provider.GetAttr(prior, "target"), fr.GetTarget()),
			"ip_address":            ip,
			"ip_protocol":           optStr(fr.GetIPProtocol()),
			"port_range":            portRange,
			"load_balancing_scheme": cty.StringVal(fr.GetLoadBalancingScheme()),
			"ip_version":            optStr(fr.GetIpVersion()),
			"description":           optStr(fr.GetDescription()),
			"labels":                labelsVal(prior, "labels", fr.GetLabels()),
			"project":               cty.StringVal(project),
			"id":                    cty.StringVal(globalID(project, "forwardingRules", fr.GetName())),
			"self_link":             cty.StringVal(fr.GetSelfLink()),
		}), nil
	}
	targetRef := func(project, t string) string {
		if strings.Contains(t, "/") {
			return t
		}
		// A bare name: Terraform takes a target proxy by name only in
		// its URL form, so HTTPS is assumed for a bare name.
		return globalRef(project, "targetHttpsProxies", t)
	}
	return &provider.Resource{
		Schema: forwardingRuleSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "target")
			if pr, nr := provider.String(prior, "port_range"), provider.String(plan.Planned, "port_range"); pr != "" && nr != "" && (samePortRange(nr, pr) || samePortRange(pr, nr)) {
				plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"port_range": cty.StringVal(pr)})
			}
			return nil
		},
		Create: g.createGlobal("google_compute_global_forwarding_rule", "forwarding rule", "forwardingRules", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				fr := &computepb.ForwardingRule{Name: proto.String(name), Target: proto.String(targetRef(project, provider.String(planned, "target"))),
					LoadBalancingScheme: proto.String(provider.String(planned, "load_balancing_scheme")), Labels: provider.StringMap(planned, "labels")}
				for attr, field := range map[string]**string{"ip_address": &fr.IPAddress, "ip_protocol": &fr.IPProtocol, "port_range": &fr.PortRange,
					"ip_version": &fr.IpVersion, "description": &fr.Description} {
					if s := provider.String(planned, attr); s != "" {
						*field = proto.String(s)
					}
				}
				return c.forwardingRules.Insert(ctx, &computepb.InsertGlobalForwardingRuleRequest{Project: project, ForwardingRuleResource: fr})
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
			if provider.Changed(prior, planned, "target") {
				err := g.call(ctx, "set target of forwarding rule "+name, func(ctx context.Context) (*compute.Operation, error) {
					return c.forwardingRules.SetTarget(ctx, &computepb.SetTargetGlobalForwardingRuleRequest{Project: project, ForwardingRule: name,
						TargetReferenceResource: &computepb.TargetReference{Target: proto.String(targetRef(project, provider.String(planned, "target")))}})
				})
				if err != nil {
					return cty.NilVal, err
				}
			}
			if provider.Changed(prior, planned, "labels") {
				err := g.call(ctx, "set labels of forwarding rule "+name, func(ctx context.Context) (*compute.Operation, error) {
					cur, err := c.forwardingRules.Get(ctx, &computepb.GetGlobalForwardingRuleRequest{Project: project, ForwardingRule: name})
					if err != nil {
						return nil, err
					}
					return c.forwardingRules.SetLabels(ctx, &computepb.SetLabelsGlobalForwardingRuleRequest{Project: project, Resource: name,
						GlobalSetLabelsRequestResource: &computepb.GlobalSetLabelsRequest{Labels: provider.StringMap(planned, "labels"), LabelFingerprint: cur.LabelFingerprint}})
				})
				if err != nil {
					return cty.NilVal, err
				}
			}
			return readBack(ctx, "forwarding rule "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("forwarding rule", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.forwardingRules.Delete(ctx, &computepb.DeleteGlobalForwardingRuleRequest{Project: project, ForwardingRule: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "forwardingRules", name) }),
		Import:   importGlobal(g, "forwardingRules", forwardingRuleSchema, read),
	}
}
