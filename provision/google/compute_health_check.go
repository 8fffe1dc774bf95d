package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_health_check (global). Import ID:
// projects/P/global/healthChecks/NAME or NAME. Everything but the name
// changes in place (healthChecks.update). One of http_health_check,
// https_health_check or tcp_health_check.

var httpCheckBlock = provider.Schema{Attributes: map[string]*provider.Attribute{
	"port":               {Type: cty.Number, Optional: true, Computed: true},
	"request_path":       {Type: cty.String, Optional: true, Computed: true},
	"host":               {Type: cty.String, Optional: true},
	"port_specification": {Type: cty.String, Optional: true, Computed: true},
	"proxy_header":       {Type: cty.String, Optional: true, Computed: true},
	"response":           {Type: cty.String, Optional: true},
}}

var tcpCheckBlock = provider.Schema{Attributes: map[string]*provider.Attribute{
	"port":               {Type: cty.Number, Optional: true, Computed: true},
	"port_specification": {Type: cty.String, Optional: true, Computed: true},
	"proxy_header":       {Type: cty.String, Optional: true, Computed: true},
	"request":            {Type: cty.String, Optional: true},
	"response":           {Type: cty.String, Optional: true},
}}

var healthCheckSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                {Type: cty.String, Required: true, ForceNew: true},
		"description":         {Type: cty.String, Optional: true},
		"check_interval_sec":  {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(5)},
		"timeout_sec":         {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(5)},
		"healthy_threshold":   {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(2)},
		"unhealthy_threshold": {Type: cty.Number, Optional: true, Computed: true, Default: cty.NumberIntVal(2)},
		"project":             {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"type":                {Type: cty.String, Computed: true},
		"id":                  {Type: cty.String, Computed: true},
		"self_link":           {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"http_health_check":  {Nesting: provider.NestingList, MaxItems: 1, Block: httpCheckBlock},
		"https_health_check": {Nesting: provider.NestingList, MaxItems: 1, Block: httpCheckBlock},
		"tcp_health_check":   {Nesting: provider.NestingList, MaxItems: 1, Block: tcpCheckBlock},
	},
}

func healthCheckFrom(v cty.Value) *computepb.HealthCheck {
	hc := &computepb.HealthCheck{
		Name:               proto.String(provider.String(v, "name")),
		Description:        proto.String(provider.String(v, "description")),
		CheckIntervalSec:   proto.Int32(int32(intOr(v, 5, "check_interval_sec"))),
		TimeoutSec:         proto.Int32(int32(intOr(v, 5, "timeout_sec"))),
		HealthyThreshold:   proto.Int32(int32(intOr(v, 2, "healthy_threshold"))),
		UnhealthyThreshold: proto.Int32(int32(intOr(v, 2, "unhealthy_threshold"))),
	}
	str := func(b cty.Value, attr string) *string {
		if s := provider.String(b, attr); s != "" {
			return proto.String(s)
		}
		return nil
	}
	port := func(b cty.Value) *int32 {
		if n, ok := provider.Int(b, "port"); ok {
			return proto.Int32(int32(n))
		}
		return nil
	}
	if b := provider.GetAttr(v, "http_health_check", "0"); !b.IsNull() {
		hc.Type = proto.String("HTTP")
		hc.HttpHealthCheck = &computepb.HTTPHealthCheck{Port: port(b), RequestPath: str(b, "request_path"), Host: str(b, "host"),
			PortSpecification: str(b, "port_specification"), ProxyHeader: str(b, "proxy_header"), Response: str(b, "response")}
	}
	if b := provider.GetAttr(v, "https_health_check", "0"); !b.IsNull() {
		hc.Type = proto.String("HTTPS")
		hc.HttpsHealthCheck = &computepb.HTTPSHealthCheck{Port: port(b), RequestPath: str(b, "request_path"), Host: str(b, "host"),
			PortSpecification: str(b, "port_specification"), ProxyHeader: str(b, "proxy_header"), Response: str(b, "response")}
	}
	if b := provider.GetAttr(v, "tcp_health_check", "0"); !b.IsNull() {
		hc.Type = proto.String("TCP")
		hc.TcpHealthCheck = &computepb.TCPHealthCheck{Port: port(b), PortSpecification: str(b, "port_specification"),
			ProxyHeader: str(b, "proxy_header"), Request: str(b, "request"), Response: str(b, "response")}
	}
	return hc
}

func healthCheckVal(hc *computepb.HealthCheck, project string) cty.Value {
	httpVal := func(port int32, path, host, spec, proxy, resp string) map[string]cty.Value {
		return map[string]cty.Value{"port": cty.NumberIntVal(int64(port)), "request_path": cty.StringVal(path), "host": optStr(host),
			"port_specification": optStr(spec), "proxy_header": optStr(proxy), "response": optStr(resp)}
	}
	var h, hs, tcp []map[string]cty.Value
	if c := hc.GetHttpHealthCheck(); c != nil {
		h = append(h, httpVal(c.GetPort(), c.GetRequestPath(), c.GetHost(), c.GetPortSpecification(), c.GetProxyHeader(), c.GetResponse()))
	}
	if c := hc.GetHttpsHealthCheck(); c != nil {
		hs = append(hs, httpVal(c.GetPort(), c.GetRequestPath(), c.GetHost(), c.GetPortSpecification(), c.GetProxyHeader(), c.GetResponse()))
	}
	if c := hc.GetTcpHealthCheck(); c != nil {
		tcp = append(tcp, map[string]cty.Value{"port": cty.NumberIntVal(int64(c.GetPort())), "port_specification": optStr(c.GetPortSpecification()),
			"proxy_header": optStr(c.GetProxyHeader()), "request": optStr(c.GetRequest()), "response": optStr(c.GetResponse())})
	}
	return provider.ObjectWith(healthCheckSchema, map[string]cty.Value{
		"name":                cty.StringVal(hc.GetName()),
		"description":         optStr(hc.GetDescription()),
		"check_interval_sec":  cty.NumberIntVal(int64(hc.GetCheckIntervalSec())),
		"timeout_sec":         cty.NumberIntVal(int64(hc.GetTimeoutSec())),
		"healthy_threshold":   cty.NumberIntVal(int64(hc.GetHealthyThreshold())),
		"unhealthy_threshold": cty.NumberIntVal(int64(hc.GetUnhealthyThreshold())),
		"project":             cty.StringVal(project),
		"type":                cty.StringVal(hc.GetType()),
		"id":                  cty.StringVal(globalID(project, "healthChecks", hc.GetName())),
		"self_link":           cty.StringVal(hc.GetSelfLink()),
		"http_health_check":   blocks(healthCheckSchema, "http_health_check", h...),
		"https_health_check":  blocks(healthCheckSchema, "https_health_check", hs...),
		"tcp_health_check":    blocks(healthCheckSchema, "tcp_health_check", tcp...),
	})
}

func healthCheckResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, _ cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		hc, found, err := get(ctx, g, "read health check "+name, func(ctx context.Context) (*computepb.HealthCheck, error) {
			return c.healthChecks.Get(ctx, &computepb.GetHealthCheckRequest{Project: project, HealthCheck: name})
		})
		if err != nil || !found {
			return cty.NullVal(healthCheckSchema.ImpliedType()), err
		}
		return healthCheckVal(hc, project), nil
	}
	return &provider.Resource{
		Schema: healthCheckSchema,
		Create: g.createGlobal("google_compute_health_check", "health check", "healthChecks", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				return c.healthChecks.Insert(ctx, &computepb.InsertHealthCheckRequest{Project: project, HealthCheckResource: healthCheckFrom(planned)})
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
			err = g.call(ctx, "update health check "+name, func(ctx context.Context) (*compute.Operation, error) {
				return c.healthChecks.Update(ctx, &computepb.UpdateHealthCheckRequest{Project: project, HealthCheck: name, HealthCheckResource: healthCheckFrom(planned)})
			})
			if err != nil {
				return cty.NilVal, err
			}
			return readBack(ctx, "health check "+name, planned, func(ctx context.Context) (cty.Value, error) { return read(ctx, project, name, planned) })
		},
		Delete: g.deleteGlobal("health check", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.healthChecks.Delete(ctx, &computepb.DeleteHealthCheckRequest{Project: project, HealthCheck: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "healthChecks", name) }),
		Import:   importGlobal(g, "healthChecks", healthCheckSchema, read),
	}
}
