package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_target_http_proxy. Import ID:
// projects/P/global/targetHttpProxies/NAME or NAME. url_map changes in
// place (setUrlMap); the rest replaces it.

var httpProxySchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":        {Type: cty.String, Required: true, ForceNew: true},
	"url_map":     {Type: cty.String, Required: true},
	"description": {Type: cty.String, Optional: true, ForceNew: true},
	"project":     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"proxy_id":    {Type: cty.String, Computed: true},
	"id":          {Type: cty.String, Computed: true},
	"self_link":   {Type: cty.String, Computed: true},
}}

func httpProxyResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		p, found, err := get(ctx, g, "read target HTTP proxy "+name, func(ctx context.Context) (*computepb.TargetHttpProxy, error) {
			return c.httpProxies.Get(ctx, &computepb.GetTargetHttpProxyRequest{Project: project, TargetHttpProxy: name})
		})
		if err != nil || !found {
			return cty.NullVal(httpProxySchema.ImpliedType()), err
		}
		return provider.ObjectWith(httpProxySchema, map[string]cty.Value{
			"name":        cty.StringVal(p.GetName()),
			"url_map":     keepRef(provider.GetAttr(prior, "url_map"), p.GetUrlMap()),
			"description": optStr(p.GetDescription()),
			"project":     cty.StringVal(project),
			"proxy_id":    cty.StringVal(fmtID(p.GetId())),
			"id":          cty.StringVal(globalID(project, "targetHttpProxies", p.GetName())),
			"self_link":   cty.StringVal(p.GetSelfLink()),
		}), nil
	}
	return &provider.Resource{
		Schema: httpProxySchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "url_map")
			return nil
		},
		Create: g.createGlobal("google_compute_target_http_proxy", "target HTTP proxy", "targetHttpProxies", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				p := &computepb.TargetHttpProxy{Name: proto.String(name), UrlMap: proto.String(globalRef(project, "urlMaps", provider.String(planned, "url_map")))}
				if d := provider.String(planned, "description"); d != "" {
					p.Description = proto.String(d)
				}
				return c.httpProxies.Insert(ctx, &computepb.InsertTargetHttpProxyRequest{Project: project, TargetHttpProxyResource: p})
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
			err = g.call(ctx, "set URL map of target HTTP proxy "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.httpProxies.SetUrlMap(ctx, &computepb.SetUrlMapTargetHttpProxyRequest{Project: project, TargetHttpProxy: name,
					UrlMapReferenceResource: &computepb.UrlMapReference{UrlMap: proto.String(globalRef(project, "urlMaps", provider.String(planned, "url_map")))}})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "target HTTP proxy "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("target HTTP proxy", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.httpProxies.Delete(ctx, &computepb.DeleteTargetHttpProxyRequest{Project: project, TargetHttpProxy: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "targetHttpProxies", name) }),
		Import:   importGlobal(g, "targetHttpProxies", httpProxySchema, read),
	}
}
