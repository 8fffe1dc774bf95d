# airctl's own block: wires the provisioned resources into the deployed services.
deploy "airflow" {
  hosts       = [google_compute_instance.airflow_vm.network_interface[0].access_config[0].nat_ip]
  user        = "deploy"
  known_hosts = file("known_hosts")
  dags        = "./dags"
  database    = google_sql_database_instance.airflow_db
  log_bucket  = google_storage_bucket.airflow_logs.name
  base_url    = "https://${var.domain_name}"

  service "worker" {
    instances   = var.worker_count
    concurrency = 4
    queues      = ["default"]
  }
  service "webserver" {
    port = 80
  }
  service "flower" {
    port = 5555
  }
}
