package google

import (
	"context"
	"fmt"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_network. Import ID: projects/P/global/networks/NAME or
// NAME. Every change replaces it. auto_create_subnetworks defaults to
// true as in Terraform, and is always sent: the API's own default differs
// between its versions.

var networkSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":                    {Type: cty.String, Required: true, ForceNew: true},
	"description":             {Type: cty.String, Optional: true, ForceNew: true},
	"auto_create_subnetworks": {Type: cty.Bool, Optional: true, Computed: true, Default: cty.True, ForceNew: true},
	"routing_mode":            {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"mtu":                     {Type: cty.Number, Optional: true, Computed: true, ForceNew: true},
	"project":                 {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"id":                      {Type: cty.String, Computed: true},
	"self_link":               {Type: cty.String, Computed: true},
	"gateway_ipv4":            {Type: cty.String, Computed: true},
}}

func globalID(project, collection, name string) string {
	return "projects/" + project + "/global/" + collection + "/" + name
}

func networkResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, _ cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		n, found, err := get(ctx, g, "read network "+name, func(ctx context.Context) (*computepb.Network, error) {
			return c.networks.Get(ctx, &computepb.GetNetworkRequest{Project: project, Network: name})
		})
		if err != nil || !found {
			return cty.NullVal(networkSchema.ImpliedType()), err
		}
		return provider.ObjectWith(networkSchema, map[string]cty.Value{
			"name":                    cty.StringVal(n.GetName()),
			"description":             optStr(n.GetDescription()),
			"auto_create_subnetworks": cty.BoolVal(n.GetAutoCreateSubnetworks()),
			"routing_mode":            optStr(n.GetRoutingConfig().GetRoutingMode()),
			"mtu":                     cty.NumberIntVal(int64(n.GetMtu())),
			"project":                 cty.StringVal(project),
			"id":                      cty.StringVal(globalID(project, "networks", n.GetName())),
			"self_link":               cty.StringVal(n.GetSelfLink()),
			"gateway_ipv4":            cty.StringVal(n.GetGatewayIPv4()),
		}), nil
	}
	return &provider.Resource{
		Schema: networkSchema,
		Create: g.createGlobal("google_compute_network", "network", "networks", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				n := &computepb.Network{Name: proto.String(name), AutoCreateSubnetworks: proto.Bool(provider.Bool(planned, true, "auto_create_subnetworks"))}
				if d := provider.String(planned, "description"); d != "" {
					n.Description = proto.String(d)
				}
				if m := provider.String(planned, "routing_mode"); m != "" {
					n.RoutingConfig = &computepb.NetworkRoutingConfig{RoutingMode: proto.String(m)}
				}
				if mtu, ok := provider.Int(planned, "mtu"); ok {
					n.Mtu = proto.Int32(int32(mtu))
				}
				return c.networks.Insert(ctx, &computepb.InsertNetworkRequest{Project: project, NetworkResource: n})
			}),
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), provider.String(cur, "name"), cur)
		},
		Delete: g.deleteGlobal("network", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.networks.Delete(ctx, &computepb.DeleteNetworkRequest{Project: project, Network: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "networks", name) }),
		Import:   importGlobal(g, "networks", networkSchema, read),
	}
}

// readBack reads an object just created or updated; on failure it returns
// the planned value (unknowns nulled) so the engine records the object.
func readBack(ctx context.Context, what string, planned cty.Value, read func(context.Context) (cty.Value, error)) (cty.Value, error) {
	v, err := read(ctx)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("%s was created but cannot be read back", what)
	}
	if err != nil {
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

// importGlobal is the Import of a global compute resource: ID
// projects/P/global/COLLECTION/NAME or NAME. collection documents the ID
// form; parseID accepts any.
func importGlobal(g *gcp, collection string, s *provider.Schema, read func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error)) func(context.Context, string) (cty.Value, error) {
	return func(ctx context.Context, id string) (cty.Value, error) {
		project, _, name, err := parseID(id, g.settings.project, "", 2)
		if err != nil {
			return cty.NilVal, err
		}
		return read(ctx, project, name, cty.NullVal(s.ImpliedType()))
	}
}
