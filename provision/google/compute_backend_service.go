package google

import (
	"context"
	"strconv"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_backend_service (global). Import ID:
// projects/P/global/backendServices/NAME or NAME. Everything but name and
// load_balancing_scheme changes in place (backendServices.update with the
// current fingerprint).

var backendServiceSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                            {Type: cty.String, Required: true, ForceNew: true},
		"description":                     {Type: cty.String, Optional: true},
		"health_checks":                   {Type: cty.Set(cty.String), Optional: true},
		"port_name":                       {Type: cty.String, Optional: true, Computed: true},
		"protocol":                        {Type: cty.String, Optional: true, Computed: true},
		"timeout_sec":                     {Type: cty.Number, Optional: true, Computed: true},
		"load_balancing_scheme":           {Type: cty.String, Optional: true, Computed: true, Default: cty.StringVal("EXTERNAL"), ForceNew: true},
		"session_affinity":                {Type: cty.String, Optional: true, Computed: true},
		"enable_cdn":                      {Type: cty.Bool, Optional: true, Computed: true},
		"connection_draining_timeout_sec": {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(300)},
		"project":                         {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"fingerprint":                     {Type: cty.String, Computed: true},
		"id":                              {Type: cty.String, Computed: true},
		"self_link":                       {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"backend": {Nesting: provider.NestingSet, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"group":           {Type: cty.String, Required: true},
			"balancing_mode":  {Type: cty.String, Optional: true, Computed: true},
			"capacity_scaler": {Type: cty.Number, Optional: true, Computed: true},
			"description":     {Type: cty.String, Optional: true},
		}}},
	},
}

func backendServiceFrom(v cty.Value, project string) *computepb.BackendService {
	bs := &computepb.BackendService{
		Name:                proto.String(provider.String(v, "name")),
		Description:         proto.String(provider.String(v, "description")),
		LoadBalancingScheme: proto.String(provider.String(v, "load_balancing_scheme")),
		ConnectionDraining:  &computepb.ConnectionDraining{DrainingTimeoutSec: proto.Int32(int32(intOr(v, 300, "connection_draining_timeout_sec")))},
	}
	for _, hc := range strs(v, "health_checks") {
		bs.HealthChecks = append(bs.HealthChecks, globalRef(project, "healthChecks", hc))
	}
	for attr, field := range map[string]**string{"port_name": &bs.PortName, "protocol": &bs.Protocol, "session_affinity": &bs.SessionAffinity} {
		if s := provider.String(v, attr); s != "" {
			*field = proto.String(s)
		}
	}
	if n, ok := provider.Int(v, "timeout_sec"); ok {
		bs.TimeoutSec = proto.Int32(int32(n))
	}
	if b := provider.GetAttr(v, "enable_cdn"); b.IsKnown() && !b.IsNull() {
		bs.EnableCDN = proto.Bool(b.True())
	}
	for _, b := range elems(v, "backend") {
		be := &computepb.Backend{Group: proto.String(provider.String(b, "group"))}
		if m := provider.String(b, "balancing_mode"); m != "" {
			be.BalancingMode = proto.String(m)
		}
		if s := provider.GetAttr(b, "capacity_scaler"); s.IsKnown() && !s.IsNull() {
			f, _ := s.AsBigFloat().Float32()
			be.CapacityScaler = proto.Float32(f)
		}
		if d := provider.String(b, "description"); d != "" {
			be.Description = proto.String(d)
		}
		bs.Backends = append(bs.Backends, be)
	}
	return bs
}

func backendServiceVal(bs *computepb.BackendService, project string, prior cty.Value) cty.Value {
	bb := backendServiceSchema.Blocks["backend"].Block
	var backends []cty.Value
	priorGroups := make([]string, 0)
	for _, pb := range elems(prior, "backend") {
		priorGroups = append(priorGroups, provider.String(pb, "group"))
	}
	for _, b := range bs.GetBackends() {
		backends = append(backends, provider.ObjectWith(&bb, map[string]cty.Value{
			"group":           cty.StringVal(keepRefs(priorGroups, []string{b.GetGroup()})[0]),
			"balancing_mode":  optStr(b.GetBalancingMode()),
			"capacity_scaler": float32Val(b.GetCapacityScaler()),
			"description":     optStr(b.GetDescription()),
		}))
	}
	backendSet := cty.SetValEmpty(bb.ImpliedType())
	if len(backends) > 0 {
		backendSet = cty.SetVal(backends)
	}
	return provider.ObjectWith(backendServiceSchema, map[string]cty.Value{
		"name":                            cty.StringVal(bs.GetName()),
		"description":                     optStr(bs.GetDescription()),
		"health_checks":                   optSet(prior, "health_checks", keepRefs(strs(prior, "health_checks"), bs.GetHealthChecks())),
		"port_name":                       optStr(bs.GetPortName()),
		"protocol":                        optStr(bs.GetProtocol()),
		"timeout_sec":                     cty.NumberIntVal(int64(bs.GetTimeoutSec())),
		"load_balancing_scheme":           cty.StringVal(bs.GetLoadBalancingScheme()),
		"session_affinity":                optStr(bs.GetSessionAffinity()),
		"enable_cdn":                      cty.BoolVal(bs.GetEnableCDN()),
		"connection_draining_timeout_sec": cty.NumberIntVal(int64(bs.GetConnectionDraining().GetDrainingTimeoutSec())),
		"project":                         cty.StringVal(project),
		"fingerprint":                     cty.StringVal(bs.GetFingerprint()),
		"id":                              cty.StringVal(globalID(project, "backendServices", bs.GetName())),
		"self_link":                       cty.StringVal(bs.GetSelfLink()),
		"backend":                         backendSet,
	})
}

func backendServiceResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		bs, found, err := get(ctx, g, "read backend service "+name, func(ctx context.Context) (*computepb.BackendService, error) {
			return c.backendServices.Get(ctx, &computepb.GetBackendServiceRequest{Project: project, BackendService: name})
		})
		if err != nil || !found {
			return cty.NullVal(backendServiceSchema.ImpliedType()), err
		}
		return backendServiceVal(bs, project, prior), nil
	}
	return &provider.Resource{
		Schema: backendServiceSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameForm(plan, prior, "health_checks")
			if provider.Changed(prior, plan.Planned, "backend") && !prior.IsNull() {
				plan.Planned = sameBackendGroups(prior, plan.Planned)
			}
			if !prior.IsNull() && !plan.Planned.RawEquals(prior) {
				plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"fingerprint": cty.UnknownVal(cty.String)})
			}
			return nil
		},
		Create: g.createGlobal("google_compute_backend_service", "backend service", "backendServices", read,
			func(ctx context.Context, c *computeClients, project, _ string, planned cty.Value) (*compute.Operation, error) {
				return c.backendServices.Insert(ctx, &computepb.InsertBackendServiceRequest{Project: project, BackendServiceResource: backendServiceFrom(planned, project)})
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
			err = g.call(ctx, "update backend service "+name, func(ctx context.Context) (*compute.Operation, error) {
				cur, err := c.backendServices.Get(ctx, &computepb.GetBackendServiceRequest{Project: project, BackendService: name})
				if err != nil {
					return nil, err
				}
				bs := backendServiceFrom(planned, project)
				bs.Fingerprint = cur.Fingerprint
				return c.backendServices.Update(ctx, &computepb.UpdateBackendServiceRequest{Project: project, BackendService: name, BackendServiceResource: bs})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "backend service "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("backend service", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.backendServices.Delete(ctx, &computepb.DeleteBackendServiceRequest{Project: project, BackendService: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "backendServices", name) }),
		Import:   importGlobal(g, "backendServices", backendServiceSchema, read),
	}
}

// sameBackendGroups rewrites planned backends whose group names the same
// instance group as a prior backend's in another form to the prior form,
// keeping the prior's computed values, so that the set elements match.
func sameBackendGroups(prior, planned cty.Value) cty.Value {
	pes := elems(prior, "backend")
	nes := elems(planned, "backend")
	if len(nes) == 0 {
		return planned
	}
	out := make([]cty.Value, len(nes))
	for i, ne := range nes {
		out[i] = ne
		g := provider.GetAttr(ne, "group")
		if !g.IsKnown() || g.IsNull() {
			continue
		}
		for _, pe := range pes {
			if sameRef(provider.String(pe, "group"), g.AsString()) || sameRef(g.AsString(), provider.String(pe, "group")) {
				m := ne.AsValueMap()
				m["group"] = provider.GetAttr(pe, "group")
				for _, attr := range []string{"balancing_mode", "capacity_scaler"} {
					if !m[attr].IsKnown() {
						m[attr] = provider.GetAttr(pe, attr)
					}
				}
				out[i] = cty.ObjectVal(m)
				break
			}
		}
	}
	return provider.SetAttrs(planned, map[string]cty.Value{"backend": cty.SetVal(out)})
}

// float32Val is f as the decimal it was written as (0.8, not
// 0.800000011920929), so that it compares equal to the configuration.
func float32Val(f float32) cty.Value {
	v, err := cty.ParseNumberVal(strconv.FormatFloat(float64(f), 'g', -1, 32))
	if err != nil {
		return cty.NumberFloatVal(float64(f))
	}
	return v
}
