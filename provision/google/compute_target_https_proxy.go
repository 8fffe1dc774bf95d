package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_target_https_proxy. Import ID:
// projects/P/global/targetHttpsProxies/NAME or NAME. url_map (setUrlMap)
// and ssl_certificates (setSslCertificates) change in place.

var httpsProxySchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":             {Type: cty.String, Required: true, ForceNew: true},
	"url_map":          {Type: cty.String, Required: true},
	"ssl_certificates": {Type: cty.List(cty.String), Optional: true},
	"ssl_policy":       {Type: cty.String, Optional: true, ForceNew: true},
	"quic_override":    {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"description":      {Type: cty.String, Optional: true, ForceNew: true},
	"project":          {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"proxy_id":         {Type: cty.String, Computed: true},
	"id":               {Type: cty.String, Computed: true},
	"self_link":        {Type: cty.String, Computed: true},
}}

func certRefs(project string, v cty.Value) []string {
	var out []string
	for _, c := range strs(v, "ssl_certificates") {
		out = append(out, globalRef(project, "sslCertificates", c))
	}
	return out
}

func httpsProxyResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		p, found, err := get(ctx, g, "read target HTTPS proxy "+name, func(ctx context.Context) (*computepb.TargetHttpsProxy, error) {
			return c.httpsProxies.Get(ctx, &computepb.GetTargetHttpsProxyRequest{Project: project, TargetHttpsProxy: name})
		})
		if err != nil || !found {
			return cty.NullVal(httpsProxySchema.ImpliedType()), err
		}
		certs := cty.NullVal(cty.List(cty.String))
		if len(p.GetSslCertificates()) > 0 || !provider.GetAttr(prior, "ssl_certificates").IsNull() {
			certs = strList(keepRefs(strs(prior, "ssl_certificates"), p.GetSslCertificates()))
		}
		return provider.ObjectWith(httpsProxySchema, map[string]cty.Value{
			"name":             cty.StringVal(p.GetName()),
			"url_map":          keepRef(provider.GetAttr(prior, "url_map"), p.GetUrlMap()),
			"ssl_certificates": certs,
			"ssl_policy":       keepRef(provider.GetAttr(prior, "ssl_policy"), p.GetSslPolicy()),
			"quic_override":    optStr(p.GetQuicOverride()),
			"description":      optStr(p.GetDescription()),
			"project":          cty.StringVal(project),
			"proxy_id":         cty.StringVal(fmtID(p.GetId())),
			"id":               cty.StringVal(globalID(project, "targetHttpsProxies", p.GetName())),
			"self_link":        cty.StringVal(p.GetSelfLink()),
		}), nil
	}
	return &provider.Resource{
		Schema: httpsProxySchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "url_map", "ssl_certificates", "ssl_policy")
			return nil
		},
		Create: g.createGlobal("google_compute_target_https_proxy", "target HTTPS proxy", "targetHttpsProxies", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				p := &computepb.TargetHttpsProxy{Name: proto.String(name), UrlMap: proto.String(globalRef(project, "urlMaps", provider.String(planned, "url_map"))),
					SslCertificates: certRefs(project, planned)}
				for attr, field := range map[string]**string{"description": &p.Description, "quic_override": &p.QuicOverride} {
					if s := provider.String(planned, attr); s != "" {
						*field = proto.String(s)
					}
				}
				if s := provider.String(planned, "ssl_policy"); s != "" {
					p.SslPolicy = proto.String(globalRef(project, "sslPolicies", s))
				}
				return c.httpsProxies.Insert(ctx, &computepb.InsertTargetHttpsProxyRequest{Project: project, TargetHttpsProxyResource: p})
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
			if provider.Changed(prior, planned, "ssl_certificates") {
				err := g.call(ctx, "set certificates of target HTTPS proxy "+name, func(ctx context.Context) (*compute.Operation, error) {
					return c.httpsProxies.SetSslCertificates(ctx, &computepb.SetSslCertificatesTargetHttpsProxyRequest{Project: project, TargetHttpsProxy: name,
						TargetHttpsProxiesSetSslCertificatesRequestResource: &computepb.TargetHttpsProxiesSetSslCertificatesRequest{SslCertificates: certRefs(project, planned)}})
				})
				if err != nil {
					return cty.NilVal, err
				}
			}
			if provider.Changed(prior, planned, "url_map") {
				err := g.call(ctx, "set URL map of target HTTPS proxy "+name, func(ctx context.Context) (*compute.Operation, error) {
					return c.httpsProxies.SetUrlMap(ctx, &computepb.SetUrlMapTargetHttpsProxyRequest{Project: project, TargetHttpsProxy: name,
						UrlMapReferenceResource: &computepb.UrlMapReference{UrlMap: proto.String(globalRef(project, "urlMaps", provider.String(planned, "url_map")))}})
				})
				if err != nil {
					return cty.NilVal, err
				}
			}
			return readBack(ctx, "target HTTPS proxy "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("target HTTPS proxy", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.httpsProxies.Delete(ctx, &computepb.DeleteTargetHttpsProxyRequest{Project: project, TargetHttpsProxy: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "targetHttpsProxies", name) }),
		Import:   importGlobal(g, "targetHttpsProxies", httpsProxySchema, read),
	}
}
