package google

import (
	"context"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_managed_ssl_certificate. Import ID:
// projects/P/global/sslCertificates/NAME or NAME. Certificates are
// immutable: any change replaces it (put create_before_destroy on it so
// the proxy always has one). managed.status shows PROVISIONING until
// Google has validated the domains (the DNS record must point at the
// load balancer), then ACTIVE; airctl does not wait for it.

var managedCertSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                      {Type: cty.String, Required: true, ForceNew: true},
		"description":               {Type: cty.String, Optional: true, ForceNew: true},
		"project":                   {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"type":                      {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"certificate_id":            {Type: cty.String, Computed: true},
		"expire_time":               {Type: cty.String, Computed: true},
		"subject_alternative_names": {Type: cty.List(cty.String), Computed: true},
		"id":                        {Type: cty.String, Computed: true},
		"self_link":                 {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"managed": {Nesting: provider.NestingList, MaxItems: 1, ForceNew: true, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"domains": {Type: cty.List(cty.String), Required: true},
			"status":  {Type: cty.String, Computed: true, Description: "PROVISIONING, ACTIVE, …: airctl's addition, not Terraform's."},
		}}},
	},
}

func managedCertResource(g *gcp) *provider.Resource {
	read := func(ctx context.Context, project, name string, _ cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		cert, found, err := get(ctx, g, "read SSL certificate "+name, func(ctx context.Context) (*computepb.SslCertificate, error) {
			return c.sslCerts.Get(ctx, &computepb.GetSslCertificateRequest{Project: project, SslCertificate: name})
		})
		if err != nil || !found {
			return cty.NullVal(managedCertSchema.ImpliedType()), err
		}
		var managed []map[string]cty.Value
		if m := cert.GetManaged(); m != nil {
			managed = append(managed, map[string]cty.Value{"domains": strList(m.GetDomains()), "status": cty.StringVal(m.GetStatus())})
		}
		return provider.ObjectWith(managedCertSchema, map[string]cty.Value{
			"name":                      cty.StringVal(cert.GetName()),
			"description":               optStr(cert.GetDescription()),
			"project":                   cty.StringVal(project),
			"type":                      cty.StringVal(cert.GetType()),
			"certificate_id":            cty.StringVal(fmtID(cert.GetId())),
			"expire_time":               cty.StringVal(cert.GetExpireTime()),
			"subject_alternative_names": strList(cert.GetSubjectAlternativeNames()),
			"id":                        cty.StringVal(globalID(project, "sslCertificates", cert.GetName())),
			"self_link":                 cty.StringVal(cert.GetSelfLink()),
			"managed":                   blocks(managedCertSchema, "managed", managed...),
		}), nil
	}
	return &provider.Resource{
		Schema: managedCertSchema,
		Create: g.createGlobal("google_compute_managed_ssl_certificate", "SSL certificate", "sslCertificates", read,
			func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error) {
				cert := &computepb.SslCertificate{Name: proto.String(name), Type: proto.String("MANAGED"),
					Managed: &computepb.SslCertificateManagedSslCertificate{Domains: strs(planned, "managed", "0", "domains")}}
				if d := provider.String(planned, "description"); d != "" {
					cert.Description = proto.String(d)
				}
				return c.sslCerts.Insert(ctx, &computepb.InsertSslCertificateRequest{Project: project, SslCertificateResource: cert})
			}),
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return read(ctx, g.project(cur), provider.String(cur, "name"), cur)
		},
		Delete: g.deleteGlobal("SSL certificate", func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error) {
			return c.sslCerts.Delete(ctx, &computepb.DeleteSslCertificateRequest{Project: project, SslCertificate: name})
		}),
		ImportID: g.namedID(func(v cty.Value, name string) string { return globalID(g.project(v), "sslCertificates", name) }),
		Import:   importGlobal(g, "sslCertificates", managedCertSchema, read),
	}
}
