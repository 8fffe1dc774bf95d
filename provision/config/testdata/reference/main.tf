# The reference deployment: one VM running the workflow services, Cloud SQL
# Postgres for metadata, a GCS bucket for task logs and an HTTPS load
# balancer in front of the webserver. Plain Terraform: it must load unchanged.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 5.30"
    }
  }

  backend "gcs" {
    bucket = "airflow-tfstate"
    prefix = "airflow/prod"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
  zone    = var.zone
}

provider "google" {
  alias   = "west"
  project = var.project_id
  region  = "us-west1"
}

variable "project_id" {
  type        = string
  description = "GCP project that hosts the platform."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a valid GCP project ID."
  }
}

variable "region" {
  type    = string
  default = "us-central1"
}

variable "zone" {
  type    = string
  default = "us-central1-a"
}

variable "domain_name" {
  type        = string
  description = "DNS name served by the HTTPS load balancer."
}

variable "machine_type" {
  type    = string
  default = "e2-highmem-2"

  validation {
    condition     = startswith(var.machine_type, "e2-") || startswith(var.machine_type, "n2-")
    error_message = "Only e2 and n2 machine types are supported."
  }
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "worker_count" {
  type    = number
  default = 1

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 8
    error_message = "worker_count must be between 1 and 8."
  }
}

variable "labels" {
  type    = map(string)
  default = {}
}

variable "firewall_rules" {
  type = map(object({
    ports         = list(string)
    source_ranges = optional(list(string), ["0.0.0.0/0"])
    priority      = optional(number, 1000)
  }))
  default = {
    http  = { ports = ["80"] }
    flower = { ports = ["5555"], source_ranges = ["10.0.0.0/8"] }
  }
}

variable "authorized_networks" {
  type        = map(string)
  description = "Networks allowed to reach Cloud SQL directly, by name."
  default     = {}
}

variable "extra_disks" {
  type = list(object({
    name = string
    size = number
  }))
  default = []
}

locals {
  name_prefix = "airflow"
  common_labels = merge(var.labels, {
    app        = "airflow"
    managed_by = "airctl"
  })
}

locals {
  subnet_cidr   = cidrsubnet("10.10.0.0/16", 8, 1)
  startup_script = templatefile("${path.module}/templates/startup.sh.tftpl", {
    workers = var.worker_count
    bucket  = google_storage_bucket.airflow_logs.name
  })
  worker_names = [for i in range(var.worker_count) : format("%s-worker-%d", local.name_prefix, i)]
}

data "google_compute_image" "debian" {
  family  = "debian-12"
  project = "debian-cloud"
}

resource "google_compute_network" "vpc" {
  name                    = "${local.name_prefix}-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "subnet" {
  name          = "${local.name_prefix}-subnet"
  ip_cidr_range = local.subnet_cidr
  region        = var.region
  network       = google_compute_network.vpc.id
}

resource "google_compute_firewall" "rules" {
  for_each = var.firewall_rules

  name     = "${local.name_prefix}-allow-${each.key}"
  network  = google_compute_network.vpc.name
  priority = each.value.priority

  allow {
    protocol = "tcp"
    ports    = each.value.ports
  }

  source_ranges = each.value.source_ranges
  target_tags   = ["airflow"]
}

resource "google_compute_instance" "airflow_vm" {
  name         = "${local.name_prefix}-vm"
  machine_type = var.machine_type
  zone         = var.zone
  tags         = ["airflow", "http-server"]
  labels       = local.common_labels

  boot_disk {
    initialize_params {
      image = data.google_compute_image.debian.self_link
      size  = 30
      type  = "pd-balanced"
    }
  }

  dynamic "attached_disk" {
    for_each = google_compute_disk.extra
    iterator = disk
    content {
      source      = disk.value.id
      device_name = disk.key
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.subnet.id

    access_config {
      // Ephemeral public IP
    }
  }

  metadata = {
    enable-oslogin = "TRUE"
  }

  metadata_startup_script = local.startup_script

  service_account {
    scopes = ["cloud-platform"]
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [metadata["ssh-keys"], labels]
  }

  depends_on = [google_sql_database_instance.airflow_db]
}

resource "google_compute_disk" "extra" {
  for_each = { for d in var.extra_disks : d.name => d }

  name = "${local.name_prefix}-${each.key}"
  size = each.value.size
  zone = var.zone
}

resource "google_sql_database_instance" "airflow_db" {
  name             = "${local.name_prefix}-db"
  database_version = "POSTGRES_17"
  region           = var.region

  settings {
    tier              = "db-custom-1-3840"
    disk_size         = 10
    disk_type         = "PD_SSD"
    availability_type = "ZONAL"
    user_labels       = local.common_labels

    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = 7
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled = true

      dynamic "authorized_networks" {
        for_each = var.authorized_networks
        content {
          name  = authorized_networks.key
          value = authorized_networks.value
        }
      }
    }
  }

  deletion_protection = true

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_sql_database" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.airflow_db.name
}

resource "google_sql_user" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.airflow_db.name
  password = var.db_password
}

resource "google_storage_bucket" "airflow_logs" {
  name                        = "${var.project_id}-airflow-logs"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  force_destroy               = false
  labels                      = local.common_labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_compute_instance_group" "airflow" {
  name      = "${local.name_prefix}-ig"
  zone      = var.zone
  instances = [google_compute_instance.airflow_vm.self_link]

  named_port {
    name = "http"
    port = 80
  }
}

resource "google_compute_health_check" "http" {
  name = "${local.name_prefix}-hc"

  http_health_check {
    port         = 80
    request_path = "/health"
  }
}

resource "google_compute_backend_service" "web" {
  name          = "${local.name_prefix}-backend"
  protocol      = "HTTP"
  port_name     = "http"
  health_checks = [google_compute_health_check.http.id]

  backend {
    group = google_compute_instance_group.airflow.id
  }
}

resource "google_compute_global_address" "lb" {
  name = "${local.name_prefix}-ip"
}

resource "google_compute_managed_ssl_certificate" "cert" {
  name = "${local.name_prefix}-cert"

  managed {
    domains = [var.domain_name]
  }
}

resource "google_compute_url_map" "https" {
  name            = "${local.name_prefix}-urlmap"
  default_service = google_compute_backend_service.web.id
}

resource "google_compute_target_https_proxy" "https" {
  name             = "${local.name_prefix}-https-proxy"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.cert.id]
}

resource "google_compute_global_forwarding_rule" "https" {
  name       = "${local.name_prefix}-https"
  target     = google_compute_target_https_proxy.https.id
  ip_address = google_compute_global_address.lb.address
  port_range = "443"
}

resource "google_compute_url_map" "redirect" {
  name = "${local.name_prefix}-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "${local.name_prefix}-http-proxy"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name       = "${local.name_prefix}-http"
  target     = google_compute_target_http_proxy.redirect.id
  ip_address = google_compute_global_address.lb.address
  port_range = "80"
}

resource "google_storage_bucket" "dr_backups" {
  provider = google.west
  count    = var.worker_count > 1 ? 1 : 0

  name     = "${var.project_id}-airflow-dr-${count.index}"
  location = "US-WEST1"
}

output "vm_ip" {
  description = "Public IP of the VM."
  value       = google_compute_instance.airflow_vm.network_interface[0].access_config[0].nat_ip
}

output "lb_url" {
  value = "https://${var.domain_name}"
}

output "db_connection" {
  value     = "postgresql://airflow:${var.db_password}@${google_sql_database_instance.airflow_db.public_ip_address}/airflow"
  sensitive = true
}

output "firewall_names" {
  value      = [for r in google_compute_firewall.rules : r.name]
  depends_on = [google_compute_firewall.rules]
}

output "dr_bucket" {
  value = one(google_storage_bucket.dr_backups[*].name)
}
