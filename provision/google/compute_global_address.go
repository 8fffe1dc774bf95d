package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_global_address. Import ID:
// projects/P/global/addresses/NAME or NAME. Every change replaces it
// (and with it the IP, which is what a DNS record points at).

var globalAddressSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":         {Type: cty.String, Required: true, ForceNew: true},
	"address":      {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"address_type": {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"ip_version":   {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"description":  {Type: cty.String, Optional: true, ForceNew: true},
	"project":      {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"id":           {Type: cty.String, Computed: true},
	"self_link":    {Type: cty.String, Computed: true},
}}

func globalAddressResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, _ cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		a, found, err := get(ctx, g, "read global address "+name, func(ctx context.Context) (*computepb.Address, error) {
			return c.addresses.Get(ctx, &computepb.GetGlobalAddressRequest{Project: project, Address: name})
		})
		if err != nil || !found {
			return cty.NullVal(globalAddressSchema.ImpliedType()), err
		}
		return provider.ObjectWith(globalAddressSchema, map[string]cty.Value{
			"name":         cty.StringVal(a.GetName()),
			"address":      cty.StringVal(a.GetAddress()),
			"address_type": optStr(a.GetAddressType()),
			"ip_version":   optStr(a.GetIpVersion()),
			"description":  optStr(a.GetDescription()),
			"project":      cty.StringVal(project),
			"id":           cty.StringVal(globalID(project, "addresses", a.GetName())),
			"self_link":    cty.StringVal(a.GetSelfLink()),
		}), nil
	}
	return &provider.Resource{
		Schema: globalAddressSchema,
		Create: g.createGlobal("google_compute_global_address", "global address", "addresses", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				a := &computepb.Address{Name: proto.String(name)}
				for attr, field := range map[string]**string{"address": &a.Address, "address_type": &a.AddressType, "ip_version": &a.IpVersion, "description": &a.Description} {
					if s := provider.String(planned, attr); s != "" {
						*field = proto.String(s)
					}
				}
				return c.addresses.Insert(ctx, &computepb.InsertGlobalAddressRequest{Project: project, AddressResource: a})
			}),
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), provider.String(cur, "name"), cur)
		},
		Delete: g.deleteGlobal("global address", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.addresses.Delete(ctx, &computepb.DeleteGlobalAddressRequest{Project: project, Address: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "addresses", name) }),
		Import:   importGlobal(g, "addresses", globalAddressSchema, read),
	}
}
