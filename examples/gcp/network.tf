resource "google_compute_network" "vpc" {
  name                    = "${var.name}-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "subnet" {
  name          = "${var.name}-subnet"
  ip_cidr_range = "10.10.1.0/24"
  region        = var.region
  network       = google_compute_network.vpc.id
}

# The load balancer's health checks and proxies reach the VM from Google's
# front-end ranges only.
resource "google_compute_firewall" "lb" {
  name          = "${var.name}-allow-lb"
  network       = google_compute_network.vpc.name
  source_ranges = ["130.211.0.0/22", "35.191.0.0/16"]
  target_tags   = ["${var.name}-web"]

  allow {
    protocol = "tcp"
    ports    = ["80"]
  }
}

# airctl deploy connects over SSH.
resource "google_compute_firewall" "ssh" {
  name          = "${var.name}-allow-ssh"
  network       = google_compute_network.vpc.name
  source_ranges = var.ssh_source_ranges
  target_tags   = ["${var.name}-web"]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}
