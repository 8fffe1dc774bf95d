package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_url_map (global). Import ID: projects/P/global/urlMaps/NAME
// or NAME. default_service or default_url_redirect (an HTTP→HTTPS
// redirect); both change in place (urlMaps.update with the fingerprint).
// host_rule/path_matcher are not supported yet.

var urlMapSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":            {Type: cty.String, Required: true, ForceNew: true},
		"description":     {Type: cty.String, Optional: true},
		"default_service": {Type: cty.String, Optional: true},
		"project":         {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"fingerprint":     {Type: cty.String, Computed: true},
		"map_id":          {Type: cty.String, Computed: true},
		"id":              {Type: cty.String, Computed: true},
		"self_link":       {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"default_url_redirect": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"https_redirect":         {Type: cty.Bool, Optional: true},
			"strip_query":            {Type: cty.Bool, Required: true},
			"redirect_response_code": {Type: cty.String, Optional: true, Computed: true},
			"host_redirect":          {Type: cty.String, Optional: true},
			"path_redirect":          {Type: cty.String, Optional: true},
			"prefix_redirect":        {Type: cty.String, Optional: true},
		}}},
	},
}

func urlMapFrom(v cty.Value, project string) *computepb.UrlMap {
	um := &computepb.UrlMap{Name: proto.String(provider.String(v, "name")), Description: proto.String(provider.String(v, "description"))}
	if s := provider.String(v, "default_service"); s != "" {
		um.DefaultService = proto.String(globalRef(project, "backendServices", s))
	}
	if r := provider.GetAttr(v, "default_url_redirect", "0"); !r.IsNull() {
		red := &computepb.HttpRedirectAction{
			HttpsRedirect: proto.Bool(provider.Bool(r, false, "https_redirect")),
			StripQuery:    proto.Bool(provider.Bool(r, false, "strip_query")),
		}
		for attr, field := range map[string]**string{"redirect_response_code": &red.RedirectResponseCode, "host_redirect": &red.HostRedirect,
			"path_redirect": &red.PathRedirect, "prefix_redirect": &red.PrefixRedirect} {
			if s := provider.String(r, attr); s != "" {
				*field = proto.String(s)
			}
		}
		um.DefaultUrlRedirect = red
	}
	return um
}

func urlMapResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		um, found, err := get(ctx, g, "read URL map "+name, func(ctx context.Context) (*computepb.UrlMap, error) {
			return c.urlMaps.Get(ctx, &computepb.GetUrlMapRequest{Project: project, UrlMap: name})
		})
		if err != nil || !found {
			return cty.NullVal(urlMapSchema.ImpliedType()), err
		}
		var redirect []map[string]cty.Value
		if r := um.GetDefaultUrlRedirect(); r != nil {
			pr := provider.GetAttr(prior, "default_url_redirect", "0")
			redirect = append(redirect, map[string]cty.Value{
				"https_redirect":         boolOrNull(r.GetHttpsRedirect(), provider.GetAttr(pr, "https_redirect")),
				"strip_query":            cty.BoolVal(r.GetStripQuery()),
				"redirect_response_code": optStr(r.GetRedirectResponseCode()),
				"host_redirect":          optStr(r.GetHostRedirect()),
				"path_redirect":          optStr(r.GetPathRedirect()),
				"prefix_redirect":        optStr(r.GetPrefixRedirect()),
			})
		}
		return provider.ObjectWith(urlMapSchema, map[string]cty.Value{
			"name":                 cty.StringVal(um.GetName()),
			"description":          optStr(um.GetDescription()),
			"default_service":      keepRef(provider.GetAttr(prior, "default_service"), um.GetDefaultService()),
			"project":              cty.StringVal(project),
			"fingerprint":          cty.StringVal(um.GetFingerprint()),
			"map_id":               cty.StringVal(fmtID(um.GetId())),
			"id":                   cty.StringVal(globalID(project, "urlMaps", um.GetName())),
			"self_link":            cty.StringVal(um.GetSelfLink()),
			"default_url_redirect": blocks(urlMapSchema, "default_url_redirect", redirect...),
		}), nil
	}
	return &provider.Resource{
		Schema: urlMapSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "default_service")
			if !prior.IsNull() && !plan.Planned.RawEquals(prior) {
				plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"fingerprint": cty.UnknownVal(cty.String)})
			}
			return nil
		},
		Create: g.createGlobal("google_compute_url_map", "URL map", "urlMaps", read,
			func(ctx context.Context, c *computeClients, project, _ string, planned cty.Value) (*compute.Operation, error) {
				return c.urlMaps.Insert(ctx, &computepb.InsertUrlMapRequest{Project: project, UrlMapResource: urlMapFrom(planned, project)})
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
			err = g.call(ctx, "update URL map "+name, func(ctx context.Context) (*compute.Operation, error) {
				cur, err := c.urlMaps.Get(ctx, &computepb.GetUrlMapRequest{Project: project, UrlMap: name})
				if err != nil {
					return nil, err
				}
				um := urlMapFrom(planned, project)
				um.Fingerprint = cur.Fingerprint
				return c.urlMaps.Update(ctx, &computepb.UpdateUrlMapRequest{Project: project, UrlMap: name, UrlMapResource: um})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "URL map "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("URL map", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.urlMaps.Delete(ctx, &computepb.DeleteUrlMapRequest{Project: project, UrlMap: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "urlMaps", name) }),
		Import:   importGlobal(g, "urlMaps", urlMapSchema, read),
	}
}
