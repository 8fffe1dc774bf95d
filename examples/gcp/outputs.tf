output "vm_ip" {
  description = "Public IP of the VM (SSH for airctl deploy)."
  value       = google_compute_instance.vm.network_interface[0].access_config[0].nat_ip
}

output "lb_ip" {
  description = "Global IP of the load balancer: point the domain's A record here."
  value       = google_compute_global_address.lb.address
}

output "url" {
  value = "https://${var.domain}"
}

output "db_connection_name" {
  description = "PROJECT:REGION:INSTANCE, for the Cloud SQL connector."
  value       = google_sql_database_instance.db.connection_name
}

output "db_public_ip" {
  value = google_sql_database_instance.db.public_ip_address
}

output "db_password" {
  value     = random_password.db.result
  sensitive = true
}

output "bucket" {
  description = "Log bucket name."
  value       = google_storage_bucket.logs.name
}
