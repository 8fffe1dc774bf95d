# Global external HTTPS load balancer: one IP, a Google-managed certificate
# for var.domain, HTTPS to the webserver on the VM, and HTTP redirected to
# HTTPS (301).

resource "google_compute_global_address" "lb" {
  name = "${var.name}-ip"
}

resource "google_compute_health_check" "web" {
  name = "${var.name}-hc"

  http_health_check {
    port         = 80
    request_path = "/health"
  }
}

resource "google_compute_backend_service" "web" {
  name          = "${var.name}-backend"
  protocol      = "HTTP"
  port_name     = "http"
  health_checks = [google_compute_health_check.web.id]

  backend {
    group = google_compute_instance_group.web.id
  }
}

resource "google_compute_managed_ssl_certificate" "web" {
  name = "${var.name}-cert"

  managed {
    domains = [var.domain]
  }
}

resource "google_compute_url_map" "https" {
  name            = "${var.name}-urlmap"
  default_service = google_compute_backend_service.web.id
}

resource "google_compute_target_https_proxy" "https" {
  name             = "${var.name}-https-proxy"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.web.id]
}

resource "google_compute_global_forwarding_rule" "https" {
  name       = "${var.name}-https"
  target     = google_compute_target_https_proxy.https.id
  ip_address = google_compute_global_address.lb.address
  port_range = "443"
}

resource "google_compute_url_map" "redirect" {
  name = "${var.name}-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "${var.name}-http-proxy"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name       = "${var.name}-http"
  target     = google_compute_target_http_proxy.redirect.id
  ip_address = google_compute_global_address.lb.address
  port_range = "80"
}
