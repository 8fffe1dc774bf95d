# Task logs, at logs/{dag_id}/{task_id}/{ts}/{try}.log.
resource "google_storage_bucket" "logs" {
  name                        = "${var.project_id}-${var.name}-logs"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  force_destroy               = var.log_bucket_force_destroy
  labels                      = local.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = var.log_retention_days
    }
    action {
      type = "Delete"
    }
  }
}
