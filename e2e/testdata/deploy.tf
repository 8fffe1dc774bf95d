# The deploy block of the e2e test, added to a copy of examples/gcp: the
# reference stack, rolled out to the test's Debian 12 VM.
#
# In production the host is the VM's public IP and database is
# google_sql_database_instance.db (its public IP, TLS required, the VM's
# address as the only authorized network; see examples/gcp/README.md). Here
# gcpfake hands the VM 127.0.0.1 as its external IP, the SSH port is the one
# qemu forwards, and the database is a local Postgres that the test makes
# appear on the guest's 127.0.0.1:5432 through a reverse SSH forward: the
# guest has no network but its SSH port.

variable "e2e_ssh_port" {
  type = number
}

variable "e2e_ssh_key" {
  type = string
}

variable "e2e_redis_password" {
  type      = string
  sensitive = true
}

variable "e2e_secret_key" {
  type      = string
  sensitive = true
}

deploy "airflow" {
  hosts       = [google_compute_instance.vm.network_interface[0].access_config[0].nat_ip]
  port        = var.e2e_ssh_port
  user        = "deploy"
  known_hosts = file("known_hosts")
  ssh_key     = var.e2e_ssh_key
  dags        = "./dags"
  log_bucket  = google_storage_bucket.logs.name
  base_url    = "https://${var.domain}"

  database = {
    host     = "127.0.0.1"
    port     = 5432
    name     = google_sql_database.airflow.name
    user     = google_sql_user.airflow.name
    password = random_password.db.result
    sslmode  = "disable"
  }

  secrets {
    redis_password = var.e2e_redis_password
    secret_key     = var.e2e_secret_key
  }
}
