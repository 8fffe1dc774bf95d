package google

import (
	"context"
	"fmt"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// Data sources: google_compute_image and google_client_config.

var imageDataSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":         {Type: cty.String, Optional: true, Computed: true},
	"family":       {Type: cty.String, Optional: true, Computed: true},
	"project":      {Type: cty.String, Optional: true, Computed: true},
	"self_link":    {Type: cty.String, Computed: true},
	"id":           {Type: cty.String, Computed: true},
	"image_id":     {Type: cty.String, Computed: true},
	"disk_size_gb": {Type: cty.Number, Computed: true},
	"status":       {Type: cty.String, Computed: true},
	"architecture": {Type: cty.String, Computed: true},
}}

func imageDataSource(g *gcp) *provider.DataSource {
	return &provider.DataSource{Schema: imageDataSchema, Read: func(ctx context.Context, cfg cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		project, name, family := g.project(cfg), provider.String(cfg, "name"), provider.String(cfg, "family")
		if (name == "") == (family == "") {
			return cty.NilVal, fmt.Errorf("set exactly one of name and family")
		}
		img, found, err := get(ctx, g, "read image", func(ctx context.Context) (*computepb.Image, error) {
			if name != "" {
				return c.images.Get(ctx, &computepb.GetImageRequest{Project: project, Image: name})
			}
			return c.images.GetFromFamily(ctx, &computepb.GetFromFamilyImageRequest{Project: project, Family: family})
		})
		if err != nil {
			return cty.NilVal, err
		}
		if !found {
			return cty.NilVal, fmt.Errorf("no image %q (family %q) in project %s", name, family, project)
		}
		return provider.ObjectWith(imageDataSchema, map[string]cty.Value{
			"name":         cty.StringVal(img.GetName()),
			"family":       optStr(img.GetFamily()),
			"project":      cty.StringVal(project),
			"self_link":    cty.StringVal(img.GetSelfLink()),
			"id":           cty.StringVal("projects/" + project + "/global/images/" + img.GetName()),
			"image_id":     cty.StringVal(fmt.Sprint(img.GetId())),
			"disk_size_gb": cty.NumberIntVal(img.GetDiskSizeGb()),
			"status":       cty.StringVal(img.GetStatus()),
			"architecture": optStr(img.GetArchitecture()),
		}), nil
	}}
}

var clientConfigSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"project":      {Type: cty.String, Computed: true},
	"region":       {Type: cty.String, Computed: true},
	"zone":         {Type: cty.String, Computed: true},
	"id":           {Type: cty.String, Computed: true},
	"access_token": {Type: cty.String, Computed: true, Sensitive: true, Description: "Always empty: airctl does not hand out its credentials to the configuration."},
}}

func clientConfigDataSource(g *gcp) *provider.DataSource {
	return &provider.DataSource{Schema: clientConfigSchema, Read: func(context.Context, cty.Value) (cty.Value, error) {
		s := g.settings
		return provider.ObjectWith(clientConfigSchema, map[string]cty.Value{
			"project":      cty.StringVal(s.project),
			"region":       cty.StringVal(s.region),
			"zone":         cty.StringVal(s.zone),
			"id":           cty.StringVal(fmt.Sprintf("projects/%s/regions/%s/zones/%s", s.project, s.region, s.zone)),
			"access_token": cty.StringVal(""),
		}), nil
	}}
}
