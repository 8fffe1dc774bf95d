package google

import (
	"context"
	"fmt"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_instance_group (unmanaged). Import ID:
// projects/P/zones/Z/instanceGroups/NAME, P/Z/NAME, Z/NAME or NAME.
// instances (add/removeInstances) and named_port (setNamedPorts) change
// in place; the rest replaces it.

var instanceGroupSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":        {Type: cty.String, Required: true, ForceNew: true},
		"zone":        {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"description": {Type: cty.String, Optional: true, ForceNew: true},
		"network":     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"instances":   {Type: cty.Set(cty.String), Optional: true, Computed: true},
		"project":     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"size":        {Type: cty.Number, Computed: true},
		"id":          {Type: cty.String, Computed: true},
		"self_link":   {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"named_port": {Nesting: provider.NestingList, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"name": {Type: cty.String, Required: true},
			"port": {Type: cty.Number, Required: true},
		}}},
	},
}

func namedPorts(v cty.Value) []*computepb.NamedPort {
	var out []*computepb.NamedPort
	for _, np := range elems(v, "named_port") {
		out = append(out, &computepb.NamedPort{Name: proto.String(provider.String(np, "name")), Port: proto.Int32(int32(intOr(np, 0, "port")))})
	}
	return out
}

func instanceRefs(project, zone string, names []string) []*computepb.InstanceReference {
	var out []*computepb.InstanceReference
	for _, n := range names {
		out = append(out, &computepb.InstanceReference{Instance: proto.String(zonalRef(project, zone, "instances", n))})
	}
	return out
}

func instanceGroupResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, zone, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		ig, found, err := get(ctx, g, "read instance group "+name, func(ctx context.Context) (*computepb.InstanceGroup, error) {
			return c.instanceGroups.Get(ctx, &computepb.GetInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name})
		})
		if err != nil || !found {
			return cty.NullVal(instanceGroupSchema.ImpliedType()), err
		}
		var members []string
		_, found, err = get(ctx, g, "list instances of group "+name, func(ctx context.Context) (struct{}, error) {
			members = nil
			it := c.instanceGroups.ListInstances(ctx, &computepb.ListInstancesInstanceGroupsRequest{Project: project, Zone: zone, InstanceGroup: name,
				InstanceGroupsListInstancesRequestResource: &computepb.InstanceGroupsListInstancesRequest{}})
			for {
				m, err := it.Next()
				if err == iterator.Done {
					return struct{}{}, nil
				}
				if err != nil {
					return struct{}{}, err
				}
				members = append(members, m.GetInstance())
			}
		})
		if err != nil || !found {
			return cty.NullVal(instanceGroupSchema.ImpliedType()), err
		}
		var ports []map[string]cty.Value
		for _, np := range ig.GetNamedPorts() {
			ports = append(ports, map[string]cty.Value{"name": cty.StringVal(np.GetName()), "port": cty.NumberIntVal(int64(np.GetPort()))})
		}
		return provider.ObjectWith(instanceGroupSchema, map[string]cty.Value{
			"name":        cty.StringVal(ig.GetName()),
			"zone":        cty.StringVal(lastSegment(ig.GetZone())),
			"description": optStr(ig.GetDescription()),
			"network":     keepRef(provider.GetAttr(prior, "network"), ig.GetNetwork()),
			"instances":   strSet(keepRefs(strs(prior, "instances"), members)),
			"project":     cty.StringVal(project),
			"size":        cty.NumberIntVal(int64(ig.GetSize())),
			"id":          cty.StringVal("projects/" + project + "/zones/" + lastSegment(ig.GetZone()) + "/instanceGroups/" + ig.GetName()),
			"self_link":   cty.StringVal(ig.GetSelfLink()),
			"named_port":  blocks(instanceGroupSchema, "named_port", ports...),
		}), nil
	}
	// setMembers adds and removes instances so that the group holds want.
	setMembers := func(ctx context.Context, c *computeClients, project, zone, name string, have, want []string) error {
		var add, remove []string
		for _, w := range want {
			if !containsRef(have, w) {
				add = append(add, w)
			}
		}
		for _, h := range have {
			if !containsRef(want, h) {
				remove = append(remove, h)
			}
		}
		if len(remove) > 0 {
			err := g.call(ctx, "remove instances from group "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.instanceGroups.RemoveInstances(ctx, &computepb.RemoveInstancesInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name,
					InstanceGroupsRemoveInstancesRequestResource: &computepb.InstanceGroupsRemoveInstancesRequest{Instances: instanceRefs(project, zone, remove)}})
			})
			if err != nil {
				return err
			}
		}
		if len(add) > 0 {
			return g.call(ctx, "add instances to group "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.instanceGroups.AddInstances(ctx, &computepb.AddInstancesInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name,
					InstanceGroupsAddInstancesRequestResource: &computepb.InstanceGroupsAddInstancesRequest{Instances: instanceRefs(project, zone, add)}})
			})
		}
		return nil
	}
	return &provider.Resource{
		Schema: instanceGroupSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "network", "instances", "zone")
			return nil
		},
		Create: func(ctx context.Context, planned cty.Value) (cty.Value, error) {
			c, err := g.computeAPI()
			if err != nil {
				return cty.NilVal, err
			}
			project, zone, name := g.project(planned), g.zone(planned), provider.String(planned, "name")
			ig := &computepb.InstanceGroup{Name: proto.String(name), NamedPorts: namedPorts(planned)}
			if d := provider.String(planned, "description"); d != "" {
				ig.Description = proto.String(d)
			}
			if n := provider.String(planned, "network"); n != "" {
				ig.Network = proto.String(globalRef(project, "networks", n))
			}
			id := "projects/" + project + "/zones/" + zone + "/instanceGroups/" + name
			err = g.insert(ctx, "google_compute_instance_group", id, func(ctx context.Context) (*compute.Operation, error) {
				return c.instanceGroups.Insert(ctx, &computepb.InsertInstanceGroupRequest{Project: project, Zone: zone, InstanceGroupResource: ig})
			})
			if err != nil {
				return createFailed(planned, err)
			}
			if err := setMembers(ctx, c, project, zone, name, nil, strs(planned, "instances")); err != nil {
				return nullUnknownsIn(planned), err
			}
			return readBack(ctx, "instance group "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, zone, name, planned) })
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
			if provider.Changed(prior, planned, "instances") {
				if err := setMembers(ctx, c, project, zone, name, strs(prior, "instances"), strs(planned, "instances")); err != nil {
					return cty.NilVal, err
				}
			}
			if provider.Changed(prior, planned, "named_port") {
				err := g.call(ctx, "set named ports of group "+name, func(ctx context.Context) (*compute.Operation, error) {
					cur, err := c.instanceGroups.Get(ctx, &computepb.GetInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name})
					if err != nil {
						return nil, err
					}
					return c.instanceGroups.SetNamedPorts(ctx, &computepb.SetNamedPortsInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name,
						InstanceGroupsSetNamedPortsRequestResource: &computepb.InstanceGroupsSetNamedPortsRequest{NamedPorts: namedPorts(planned), Fingerprint: cur.Fingerprint}})
				})
				if err != nil {
					return cty.NilVal, err
				}
			}
			v, err := read(ctx, project, zone, name, planned)
			if err == nil && v.IsNull() {
				err = fmt.Errorf("instance group %s disappeared during the update; run plan again to recreate it", name)
			}
			return v, err
		},
		Delete: func(ctx context.Context, prior cty.Value) error {
			c, err := g.computeAPI()
			if err != nil {
				return err
			}
			project, zone, name := g.project(prior), g.zone(prior), provider.String(prior, "name")
			return g.remove(ctx, "delete instance group "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.instanceGroups.Delete(ctx, &computepb.DeleteInstanceGroupRequest{Project: project, Zone: zone, InstanceGroup: name})
			})
		},
		ImportID: g.namedID(func(v cty.Value, name string) string {
			return "projects/" + g.project(v) + "/zones/" + g.zone(v) + "/instanceGroups/" + name
		}),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			project, zone, name, err := parseID(id, g.settings.project, g.settings.zone, 3)
			if err != nil {
				return cty.NilVal, err
			}
			return read(ctx, project, zone, name, cty.NullVal(instanceGroupSchema.ImpliedType()))
		},
	}
}

func containsRef(list []string, ref string) bool {
	for _, l := range list {
		if sameRef(l, ref) || sameRef(ref, l) {
			return true
		}
	}
	return false
}
