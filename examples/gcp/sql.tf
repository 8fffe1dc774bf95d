# Cloud SQL Postgres 17 for the metadata database.
#
# How the VM reaches it: public IP, with the VM's own (ephemeral) public
# address as the only authorized network, and TLS required. A private IP
# would need Private Service Access (a peering range and a
# servicenetworking connection), which this provider does not manage; the
# Cloud SQL connector/Auth Proxy would need a proxy process and the Cloud
# SQL Client role on the VM's service account. If the VM is recreated and
# its address changes, the next apply updates the authorized network in
# place. See README.md.
resource "google_sql_database_instance" "db" {
  name             = "${var.name}-db"
  database_version = "POSTGRES_17"
  region           = var.region

  # See variables.tf: must be false (and applied) before destroy.
  deletion_protection = var.db_deletion_protection

  settings {
    tier              = var.db_tier
    edition           = "ENTERPRISE" # db-custom-* tiers need it; Postgres 17 defaults to ENTERPRISE_PLUS
    disk_size         = 10
    disk_type         = "PD_SSD"
    availability_type = "ZONAL"
    user_labels       = local.labels

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

    final_backup_config {
      enabled        = true
      retention_days = 30
    }

    ip_configuration {
      ipv4_enabled = true
      ssl_mode     = "ENCRYPTED_ONLY"

      authorized_networks {
        name  = "${var.name}-vm"
        value = "${google_compute_instance.vm.network_interface[0].access_config[0].nat_ip}/32"
      }
    }
  }
}

resource "google_sql_database" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.db.name
}

resource "random_password" "db" {
  length  = 32
  special = false
}

resource "google_sql_user" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.db.name
  password = random_password.db.result
}
