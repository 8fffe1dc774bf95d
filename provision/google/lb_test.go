package google

import (
	"strings"
	"testing"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
)

// lbConfig is the reference stack's network and front door: a VPC, a VM
// in an instance group behind an HTTPS load balancer, and the HTTP→HTTPS
// redirect, written as in the Terraform file.
const lbConfig = `
resource "google_compute_network" "vpc" {
  name                    = "airflow-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "subnet" {
  name          = "airflow-subnet"
  ip_cidr_range = "10.10.1.0/24"
  region        = "us-central1"
  network       = google_compute_network.vpc.id
}

resource "google_compute_firewall" "http" {
  name     = "airflow-allow-http"
  network  = google_compute_network.vpc.name
  priority = 1000

  allow {
    protocol = "tcp"
    ports    = ["80"]
  }

  source_ranges = ["0.0.0.0/0"]
  target_tags   = ["airflow"]
}

resource "google_compute_instance" "vm" {
  name         = "airflow-vm"
  machine_type = "e2-highmem-2"
  zone         = "us-central1-a"
  tags         = ["airflow"]

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.subnet.id
    access_config {}
  }
}

resource "google_compute_instance_group" "airflow" {
  name      = "airflow-ig"
  zone      = "us-central1-a"
  instances = [google_compute_instance.vm.self_link]

  named_port {
    name = "http"
    port = 80
  }
}

resource "google_compute_health_check" "http" {
  name = "airflow-hc"

  http_health_check {
    port         = 80
    request_path = "/health"
  }
}

resource "google_compute_backend_service" "web" {
  name          = "airflow-backend"
  protocol      = "HTTP"
  port_name     = "http"
  timeout_sec   = 30
  health_checks = [google_compute_health_check.http.id]

  backend {
    group = google_compute_instance_group.airflow.id
  }
}

resource "google_compute_global_address" "lb" {
  name = "airflow-ip"
}

resource "google_compute_managed_ssl_certificate" "cert" {
  name = "airflow-cert"

  managed {
    domains = ["airflow.example.com"]
  }
}

resource "google_compute_url_map" "https" {
  name            = "airflow-urlmap"
  default_service = google_compute_backend_service.web.id
}

resource "google_compute_target_https_proxy" "https" {
  name             = "airflow-https-proxy"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.cert.id]
}

resource "google_compute_global_forwarding_rule" "https" {
  name       = "airflow-https"
  target     = google_compute_target_https_proxy.https.id
  ip_address = google_compute_global_address.lb.address
  port_range = "443"
}

resource "google_compute_url_map" "redirect" {
  name = "airflow-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "airflow-http-proxy"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name       = "airflow-http"
  target     = google_compute_target_http_proxy.redirect.id
  ip_address = google_compute_global_address.lb.address
  port_range = "80"
}
`

var lbAddrs = []string{
	"google_compute_network.vpc", "google_compute_subnetwork.subnet", "google_compute_firewall.http",
	"google_compute_instance.vm", "google_compute_instance_group.airflow", "google_compute_health_check.http",
	"google_compute_backend_service.web", "google_compute_global_address.lb", "google_compute_managed_ssl_certificate.cert",
	"google_compute_url_map.https", "google_compute_target_https_proxy.https", "google_compute_global_forwarding_rule.https",
	"google_compute_url_map.redirect", "google_compute_target_http_proxy.redirect", "google_compute_global_forwarding_rule.http",
}

func TestLoadBalancerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(lbConfig)
	p := e.plan()
	for _, a := range lbAddrs {
		e.mustAction(p, a, provision.Create)
	}
	e.apply()
	if got := e.str("google_compute_global_forwarding_rule.https", "port_range"); got != "443" {
		t.Fatalf("port_range = %q", got)
	}
	if got := e.str("google_compute_global_address.lb", "address"); got == "" {
		t.Fatal("no address allocated")
	}
	if got := e.attr("google_compute_instance_group.airflow", "size"); got.AsBigFloat().String() != "1" {
		t.Fatalf("instance group size %v", got)
	}
	e.noChanges()

	// In-place updates along the chain.
	e.config(strings.NewReplacer(
		`request_path = "/health"`, `request_path = "/healthz"`,
		`timeout_sec   = 30`, `timeout_sec   = 60`,
		`"MOVED_PERMANENTLY_DEFAULT"`, `"FOUND"`,
		`ports    = ["80"]`, `ports    = ["80", "8080"]`,
		`name = "http"
    port = 80`, `name = "http"
    port = 8080`,
	).Replace(lbConfig))
	p = e.plan()
	for _, a := range []string{"google_compute_health_check.http", "google_compute_backend_service.web", "google_compute_url_map.redirect",
		"google_compute_firewall.http", "google_compute_instance_group.airflow"} {
		e.mustAction(p, a, provision.Update)
	}
	e.mustAction(p, "google_compute_global_forwarding_rule.https", provision.NoOp)
	e.apply()
	e.noChanges()
	hcs, err := compute.NewHealthChecksRESTClient(t.Context(), e.computeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer hcs.Close()
	hc, err := hcs.Get(t.Context(), &computepb.GetHealthCheckRequest{Project: testProject, HealthCheck: "airflow-hc"})
	if err != nil || hc.GetHttpHealthCheck().GetRequestPath() != "/healthz" {
		t.Fatalf("health check after update: %v %v", hc, err)
	}

	// A certificate in use cannot be deleted first: replacing it without
	// create_before_destroy fails with advice, and the state is intact.
	e.config(strings.Replace(lbConfig, "airflow.example.com", "www.example.com", 1))
	e.mustAction(e.plan(), "google_compute_managed_ssl_certificate.cert", provision.DeleteThenCreate)
	if err := e.applyErr(provision.PlanOptions{}); err == nil || !strings.Contains(err.Error(), "create_before_destroy") {
		t.Fatalf("replacing a certificate in use: %v", err)
	}

	// A ForceNew change on a leaf of the chain replaces it.
	e.config(strings.Replace(lbConfig, `port_range = "80"`, `port_range = "8080"`, 1))
	p = e.plan()
	c := e.mustAction(p, "google_compute_global_forwarding_rule.http", provision.DeleteThenCreate)
	if len(c.ReplacePaths) != 1 {
		t.Fatalf("replace paths %v", c.ReplacePaths)
	}
	e.mustAction(p, "google_compute_managed_ssl_certificate.cert", provision.NoOp)
	e.apply()
	if got := e.str("google_compute_global_forwarding_rule.http", "port_range"); got != "8080" {
		t.Fatalf("port_range = %q", got)
	}
	e.noChanges()

	// Every resource imports by ID to the same state.
	ids := map[string]string{}
	for _, a := range lbAddrs {
		ids[a] = e.str(a, "id")
	}
	for _, a := range lbAddrs {
		e.forget(a)
		e.importID(a, ids[a])
	}
	e.noChanges()

	e.destroy()
}

func TestLoadBalancerDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(lbConfig)
	e.apply()

	// The URL map's default service is changed behind airctl's back, and
	// the HTTP forwarding rule is deleted: plan shows both, apply repairs.
	bss, err := compute.NewBackendServicesRESTClient(t.Context(), e.computeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer bss.Close()
	e.wait(bss.Insert(t.Context(), &computepb.InsertBackendServiceRequest{Project: testProject, BackendServiceResource: &computepb.BackendService{Name: strPtr("other")}}))
	ums, err := compute.NewUrlMapsRESTClient(t.Context(), e.computeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer ums.Close()
	um, err := ums.Get(t.Context(), &computepb.GetUrlMapRequest{Project: testProject, UrlMap: "airflow-urlmap"})
	if err != nil {
		t.Fatal(err)
	}
	um.DefaultService = strPtr("global/backendServices/other")
	e.wait(ums.Update(t.Context(), &computepb.UpdateUrlMapRequest{Project: testProject, UrlMap: "airflow-urlmap", UrlMapResource: um}))
	frs, err := compute.NewGlobalForwardingRulesRESTClient(t.Context(), e.computeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer frs.Close()
	e.wait(frs.Delete(t.Context(), &computepb.DeleteGlobalForwardingRuleRequest{Project: testProject, ForwardingRule: "airflow-http"}))

	p := e.plan()
	e.mustAction(p, "google_compute_url_map.https", provision.Update)
	e.mustAction(p, "google_compute_global_forwarding_rule.http", provision.Create)
	e.apply()
	e.noChanges()
	e.destroy()
}

func strPtr(s string) *string { return &s }

func TestGlobalAddressAlreadyExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	c, err := compute.NewGlobalAddressesRESTClient(t.Context(), e.computeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e.wait(c.Insert(t.Context(), &computepb.InsertGlobalAddressRequest{Project: testProject, AddressResource: &computepb.Address{Name: strPtr("airflow-ip")}}))
	e.config(`resource "google_compute_global_address" "lb" { name = "airflow-ip" }`)
	err = e.applyErr(provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "already exists: import it with: airctl import google_compute_global_address.<name> projects/p1/global/addresses/airflow-ip") {
		t.Fatalf("apply: %v", err)
	}
	e.importID("google_compute_global_address.lb", "airflow-ip")
	e.noChanges()
}

// An operation that ends in error fails the apply with the API's message
// and records nothing.
func TestOperationError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{Faults: []gcpfake.Fault{{Method: "POST", Path: "/global/networks", Times: 1, FailOperation: true, Status: 403, Message: "quota exceeded"}}})
	e.config(`resource "google_compute_network" "n" { name = "n" }`)
	err := e.applyErr(provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("apply: %v", err)
	}
	if st := e.state(); st != nil && len(st.Resources) != 0 {
		t.Fatalf("failed create recorded: %v", st.Addresses())
	}
	e.apply()
	e.noChanges()
}

// The proxies and forwarding rules change in place: a second certificate
// on the HTTPS proxy, the HTTP proxy moved to another URL map, labels on
// a forwarding rule.
func TestProxyUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(lbConfig)
	e.apply()
	e.config(strings.NewReplacer(
		`ssl_certificates = [google_compute_managed_ssl_certificate.cert.id]`, `ssl_certificates = [google_compute_managed_ssl_certificate.cert.id, google_compute_managed_ssl_certificate.www.id]`,
		`url_map = google_compute_url_map.redirect.id`, `url_map = google_compute_url_map.redirect2.id`,
		`port_range = "443"`, `port_range = "443"
  labels     = { app = "airflow" }`,
	).Replace(lbConfig) + `
resource "google_compute_managed_ssl_certificate" "www" {
  name = "airflow-www"
  managed {
    domains = ["www.example.com"]
  }
}

resource "google_compute_url_map" "redirect2" {
  name = "airflow-redirect2"
  default_url_redirect {
    https_redirect = true
    strip_query    = true
  }
}
`)
	p := e.plan()
	for _, a := range []string{"google_compute_target_https_proxy.https", "google_compute_target_http_proxy.redirect", "google_compute_global_forwarding_rule.https"} {
		e.mustAction(p, a, provision.Update)
	}
	e.apply()
	e.noChanges()
	if got := e.attr("google_compute_target_https_proxy.https", "ssl_certificates"); got.LengthInt() != 2 {
		t.Fatalf("ssl_certificates = %#v", got)
	}
	if got := e.str("google_compute_global_forwarding_rule.https", "labels", "app"); got != "airflow" {
		t.Fatalf("labels.app = %q", got)
	}
	// The old redirect map, no longer used, can go.
	cfg := e.readConfig()
	start := strings.Index(cfg, `resource "google_compute_url_map" "redirect" {`)
	end := start + strings.Index(cfg[start:], "\n}\n") + 3
	e.config(cfg[:start] + cfg[end:])
	e.mustAction(e.plan(), "google_compute_url_map.redirect", provision.Delete)
	e.apply()
	e.noChanges()
	e.destroy()
}
