package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_subnetwork. Import ID:
// projects/P/regions/R/subnetworks/NAME, P/R/NAME, R/NAME or NAME.
// Every change replaces it.

var subnetworkSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":                     {Type: cty.String, Required: true, ForceNew: true},
	"ip_cidr_range":            {Type: cty.String, Required: true, ForceNew: true},
	"network":                  {Type: cty.String, Required: true, ForceNew: true},
	"region":                   {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"description":              {Type: cty.String, Optional: true, ForceNew: true},
	"private_ip_google_access": {Type: cty.Bool, Optional: true, Computed: true, ForceNew: true},
	"project":                  {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"id":                       {Type: cty.String, Computed: true},
	"self_link":                {Type: cty.String, Computed: true},
	"gateway_address":          {Type: cty.String, Computed: true},
}}

func subnetworkResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, region, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		s, found, err := get(ctx, g, "read subnetwork "+name, func(ctx context.Context) (*computepb.Subnetwork, error) {
			return c.subnetworks.Get(ctx, &computepb.GetSubnetworkRequest{Project: project, Region: region, Subnetwork: name})
		})
		if err != nil || !found {
			return cty.NullVal(subnetworkSchema.ImpliedType()), err
		}
		return provider.ObjectWith(subnetworkSchema, map[string]cty.Value{
			"name":                     cty.StringVal(s.GetName()),
			"ip_cidr_range":            cty.StringVal(s.GetIpCidrRange()),
			"network":                  keepRef(provider.GetAttr(prior, "network"), s.GetNetwork()),
			"region":                   cty.StringVal(lastSegment(s.GetRegion())),
			"description":              optStr(s.GetDescription()),
			"private_ip_google_access": cty.BoolVal(s.GetPrivateIpGoogleAccess()),
			"project":                  cty.StringVal(project),
			"id":                       cty.StringVal("projects/" + project + "/regions/" + region + "/subnetworks/" + s.GetName()),
			"self_link":                cty.StringVal(s.GetSelfLink()),
			"gateway_address":          cty.StringVal(s.GetGatewayAddress()),
		}), nil
	}
	return &provider.Resource{
		Schema: subnetworkSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "network")
			return nil
		},
		Create: func(ctx context.Context, planned cty.Value) (cty.Value, error) {
			c, err := g.computeAPI()
			if err != nil {
				return cty.NilVal, err
			}
			project, region, name := g.project(planned), g.region(planned), provider.String(planned, "name")
			s := &computepb.Subnetwork{
				Name:        proto.String(name),
				IpCidrRange: proto.String(provider.String(planned, "ip_cidr_range")),
				Network:     proto.String(globalRef(project, "networks", provider.String(planned, "network"))),
			}
			if d := provider.String(planned, "description"); d != "" {
				s.Description = proto.String(d)
			}
			if b := provider.GetAttr(planned, "private_ip_google_access"); b.IsKnown() && !b.IsNull() {
				s.PrivateIpGoogleAccess = proto.Bool(b.True())
			}
			id := "projects/" + project + "/regions/" + region + "/subnetworks/" + name
			err = g.insert(ctx, "google_compute_subnetwork", id, func(ctx context.Context) (*compute.Operation, error) {
				return c.subnetworks.Insert(ctx, &computepb.InsertSubnetworkRequest{Project: project, Region: region, SubnetworkResource: s})
			})
			if err != nil {
				return createFailed(planned, err)
			}
			return readBack(ctx, "subnetwork "+name, planned, func(ctx context.Context) (cty.Value, error) {
				return read(ctx, project, region, name, planned)
			})
		},
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), g.region(cur), provider.String(cur, "name"), cur)
		},
		Delete: func(ctx context.Context, prior cty.Value) error {
			c, err := g.computeAPI()
			if err != nil {
				return err
			}
			project, region, name := g.project(prior), g.region(prior), provider.String(prior, "name")
			return g.remove(ctx, "delete subnetwork "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.subnetworks.Delete(ctx, &computepb.DeleteSubnetworkRequest{Project: project, Region: region, Subnetwork: name})
			})
		},
		ImportID: g.namedID(func(v cty.Value, name string) string {
			return "projects/" + g.project(v) + "/regions/" + g.region(v) + "/subnetworks/" + name
		}),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			project, region, name, err := parseID(id, g.settings.project, g.settings.region, 3)
			if err != nil {
				return cty.NilVal, err
			}
			return read(ctx, project, region, name, cty.NullVal(subnetworkSchema.ImpliedType()))
		},
	}
}
