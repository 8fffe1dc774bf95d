data "google_compute_image" "debian" {
  family  = "debian-12"
  project = "debian-cloud"
}

# A replaced VM is created before the old one is deleted
# (create_before_destroy), so the instance group and Cloud SQL's authorized
# network move to the new VM first: GCP refuses to delete a VM that an
# instance group still holds. Both VMs exist for a moment, so the name needs
# a suffix that changes with what forces a replacement: the machine type,
# unless allow_stopping_for_update resizes the VM in place.
resource "random_id" "vm" {
  byte_length = 2
  keepers = {
    machine_type = var.allow_stopping_for_update ? "resized-in-place" : var.machine_type
  }
}

resource "google_compute_instance" "vm" {
  name         = "${var.name}-vm-${random_id.vm.hex}"
  machine_type = var.machine_type
  zone         = var.zone
  tags         = ["${var.name}-web"]
  labels       = local.labels

  allow_stopping_for_update = var.allow_stopping_for_update

  boot_disk {
    initialize_params {
      image = data.google_compute_image.debian.self_link
      size  = 30
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.subnet.id

    access_config {
      # Ephemeral public IP: airctl deploy reaches the VM over SSH, and
      # Cloud SQL admits this address (see sql.tf).
    }
  }

  metadata = {
    enable-oslogin = "TRUE"
  }

  service_account {
    scopes = ["cloud-platform"]
  }

  lifecycle {
    create_before_destroy = true
    # A new debian-12 image must not recreate the VM; airctl deploy keeps
    # the software current.
    ignore_changes = [boot_disk[0].initialize_params[0].image]
  }
}

# The load balancer's backend: the VM, serving the webserver on port 80.
resource "google_compute_instance_group" "web" {
  name      = "${var.name}-ig"
  zone      = var.zone
  instances = [google_compute_instance.vm.self_link]

  named_port {
    name = "http"
    port = 80
  }
}
