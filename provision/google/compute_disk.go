package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_disk (zonal), for the reference stack's extra disks.
// Import ID: projects/P/zones/Z/disks/NAME, P/Z/NAME, Z/NAME or NAME.
// labels change in place; everything else replaces the disk (airctl does
// not resize disks yet).

var diskSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":        {Type: cty.String, Required: true, ForceNew: true},
	"zone":        {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"size":        {Type: cty.Number, Optional: true, Computed: true, ForceNew: true},
	"type":        {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"image":       {Type: cty.String, Optional: true, ForceNew: true},
	"description": {Type: cty.String, Optional: true, ForceNew: true},
	"labels":      {Type: cty.Map(cty.String), Optional: true},
	"project":     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"id":          {Type: cty.String, Computed: true},
	"self_link":   {Type: cty.String, Computed: true},
}}

func diskResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, zone, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		d, found, err := get(ctx, g, "read disk "+name, func(ctx context.Context) (*computepb.Disk, error) {
			return c.disks.Get(ctx, &computepb.GetDiskRequest{Project: project, Zone: zone, Disk: name})
		})
		if err != nil || !found {
			return cty.NullVal(diskSchema.ImpliedType()), err
		}
		image := cty.NullVal(cty.String)
		if d.GetSourceImage() != "" {
			image = keepRef(provider.GetAttr(prior, "image"), d.GetSourceImage())
			if pi := provider.String(prior, "image"); pi != "" {
				image = cty.StringVal(pi) // short and family forms cannot be compared here
			}
		}
		return provider.ObjectWith(diskSchema, map[string]cty.Value{
			"name":        cty.StringVal(d.GetName()),
			"zone":        cty.StringVal(lastSegment(d.GetZone())),
			"size":        cty.NumberIntVal(d.GetSizeGb()),
			"type":        cty.StringVal(lastSegment(d.GetType())),
			"image":       image,
			"description": optStr(d.GetDescription()),
			"labels":      labelsVal(prior, "labels", d.GetLabels()),
			"project":     cty.StringVal(project),
			"id":          cty.StringVal("projects/" + project + "/zones/" + lastSegment(d.GetZone()) + "/disks/" + d.GetName()),
			"self_link":   cty.StringVal(d.GetSelfLink()),
		}), nil
	}
	return &provider.Resource{
		Schema: diskSchema,
		Create: func(ctx context.Context, planned cty.Value) (cty.Value, error) {
			c, err := g.computeAPI()
			if err != nil {
				return cty.NilVal, err
			}
			project, zone, name := g.project(planned), g.zone(planned), provider.String(planned, "name")
			d := &computepb.Disk{Name: proto.String(name), Labels: provider.StringMap(planned, "labels")}
			if n, ok := provider.Int(planned, "size"); ok {
				d.SizeGb = proto.Int64(n)
			}
			if t := provider.String(planned, "type"); t != "" {
				d.Type = proto.String(zonalRef(project, zone, "diskTypes", t))
			}
			if desc := provider.String(planned, "description"); desc != "" {
				d.Description = proto.String(desc)
			}
			if img := provider.String(planned, "image"); img != "" {
				url, err := g.resolveImage(ctx, c, project, img)
				if err != nil {
					return cty.NilVal, err
				}
				d.SourceImage = proto.String(url)
			}
			id := "projects/" + project + "/zones/" + zone + "/disks/" + name
			err = g.insert(ctx, "google_compute_disk", id, func(ctx context.Context) (*compute.Operation, error) {
				return c.disks.Insert(ctx, &computepb.InsertDiskRequest{Project: project, Zone: zone, DiskResource: d})
			})
			if err != nil {
				return createFailed(planned, err)
			}
			return readBack(ctx, "disk "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, zone, name, planned) })
		},
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), g.zone(cur), provider.String(cur, "name"), cur)
		},
		Update: func(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
			c, err := g.computeAPI()
			if err != nil {
				return cty.NilVal, err
			}
			project, zone, name := g.project(prior), g.zone(prior), provider.String(prior, "name")
			err = g.call(ctx, "set labels of disk "+name, func(ctx context.Context) (*compute.Operation, error) {
				cur, err := c.disks.Get(ctx, &computepb.GetDiskRequest{Project: project, Zone: zone, Disk: name})
				if err != nil {
					return nil, err
				}
				return c.disks.SetLabels(ctx, &computepb.SetLabelsDiskRequest{Project: project, Zone: zone, Resource: name,
					ZoneSetLabelsRequestResource: &computepb.ZoneSetLabelsRequest{Labels: provider.StringMap(planned, "labels"), LabelFingerprint: cur.LabelFingerprint}})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "disk "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, zone, name, planned) })
		},
		Delete: func(ctx context.Context, prior cty.Value) error {
			c, err := g.computeAPI()
			if err != nil {
				return err
			}
			project, zone, name := g.project(prior), g.zone(prior), provider.String(prior, "name")
			return g.remove(ctx, "delete disk "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.disks.Delete(ctx, &computepb.DeleteDiskRequest{Project: project, Zone: zone, Disk: name})
			})
		},
		ImportID: g.namedID(func(v cty.Value, name string) string {
			return "projects/" + g.project(v) + "/zones/" + g.zone(v) + "/disks/" + name
		}),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			project, zone, name, err := parseID(id, g.settings.project, g.settings.zone, 3)
			if err != nil {
				return cty.NilVal, err
			}
			return read(ctx, project, zone, name, cty.NullVal(diskSchema.ImpliedType()))
		},
	}
}
