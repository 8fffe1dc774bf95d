// Package google is airctl's google provider: the GCP resources of the
// reference stack (Compute Engine, Cloud SQL, Cloud Storage) under
// Terraform's type, attribute and block names, so that a Terraform file for
// the stack loads unchanged. It talks to GCP through the real Go clients
// (cloud.google.com/go/compute/apiv1, google.golang.org/api/sqladmin/v1,
// cloud.google.com/go/storage); the custom endpoints point them at
// internal/gcpfake in tests and demos.
//
// Import IDs ("airctl import ADDR ID"), as Terraform's; the short forms
// take the project, region or zone from the provider configuration:
//
//	google_storage_bucket                   NAME
//	google_compute_instance                 projects/P/zones/Z/instances/NAME | P/Z/NAME | Z/NAME | NAME
//	google_compute_instance_group           projects/P/zones/Z/instanceGroups/NAME | P/Z/NAME | Z/NAME | NAME
//	google_compute_disk                     projects/P/zones/Z/disks/NAME | P/Z/NAME | Z/NAME | NAME
//	google_compute_subnetwork               projects/P/regions/R/subnetworks/NAME | P/R/NAME | R/NAME | NAME
//	google_compute_network, _firewall, _global_address, _health_check, _backend_service, _url_map,
//	_target_http_proxy, _target_https_proxy, _managed_ssl_certificate, _global_forwarding_rule
//	                                        projects/P/global/COLLECTION/NAME | NAME (the resource's id attribute)
//	google_sql_database_instance            projects/P/instances/NAME | P/NAME | NAME
//	google_sql_database                     projects/P/instances/I/databases/NAME | P/I/NAME | I/NAME
//	google_sql_user                         I/NAME | P/I/NAME | P/I/HOST/NAME (the password is not readable)
//
// A create that meets an existing object (409) fails with the command to
// import it; airctl never adopts an object it did not create, except its
// own from a retried request whose first answer was lost.
package google

import (
	"github.com/airctl/airctl/provision/provider"
)

// New returns an unconfigured google provider that reads its GOOGLE_*
// environment fallbacks from the process environment.
func New() provider.Provider { return newSimple(&gcp{}) }

// NewWithEnv is New with the environment given by getenv (for example
// from a CLI whose environment is injected in tests).
func NewWithEnv(getenv func(string) string) provider.Provider {
	return newSimple(&gcp{getenv: getenv})
}

// newSimple wires every resource type to g, which Configure fills in.
func newSimple(g *gcp) *provider.Simple {
	return &provider.Simple{
		ProviderSchema: providerSchema,
		ConfigureFunc:  g.configure,
		Resources: map[string]*provider.Resource{
			"google_storage_bucket":                  bucketResource(g),
			"google_compute_instance":                instanceResource(g),
			"google_sql_database_instance":           sqlInstanceResource(g),
			"google_sql_database":                    sqlDatabaseResource(g),
			"google_sql_user":                        sqlUserResource(g),
			"google_compute_disk":                    diskResource(g),
			"google_compute_network":                 networkResource(g),
			"google_compute_subnetwork":              subnetworkResource(g),
			"google_compute_firewall":                firewallResource(g),
			"google_compute_global_address":          globalAddressResource(g),
			"google_compute_health_check":            healthCheckResource(g),
			"google_compute_instance_group":          instanceGroupResource(g),
			"google_compute_backend_service":         backendServiceResource(g),
			"google_compute_url_map":                 urlMapResource(g),
			"google_compute_target_http_proxy":       httpProxyResource(g),
			"google_compute_target_https_proxy":      httpsProxyResource(g),
			"google_compute_managed_ssl_certificate": managedCertResource(g),
			"google_compute_global_forwarding_rule":  forwardingRuleResource(g),
		},
		DataSources: map[string]*provider.DataSource{
			"google_compute_image": imageDataSource(g),
			"google_client_config": clientConfigDataSource(g),
		},
	}
}
