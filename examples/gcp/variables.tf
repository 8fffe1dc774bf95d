variable "project_id" {
  type        = string
  description = "GCP project that hosts the platform."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "The project_id must be a valid GCP project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region of the subnetwork, the Cloud SQL instance and the log bucket."
  default     = "us-central1"
}

variable "zone" {
  type        = string
  description = "Zone of the VM; must be in var.region."
  default     = "us-central1-a"
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (VPC, VM, database, load balancer…)."
  default     = "airflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name))
    error_message = "The name must be 2-22 lowercase letters, digits or hyphens, starting with a letter: resource names derive from it."
  }
}

variable "domain" {
  type        = string
  description = "DNS name served by the HTTPS load balancer (its A record must point at the lb_ip output for the managed certificate to become ACTIVE)."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "The domain must be a fully qualified lowercase DNS name such as airflow.example.com."
  }
}

variable "machine_type" {
  type        = string
  description = "Machine type of the VM."
  default     = "e2-highmem-2"
}

variable "allow_stopping_for_update" {
  type        = bool
  description = "Let a machine_type change stop, resize and restart the VM in place; false replaces the VM instead."
  default     = false
}

variable "db_tier" {
  type        = string
  description = "Cloud SQL machine tier."
  default     = "db-custom-1-3840"
}

variable "db_deletion_protection" {
  type = bool
  # The google provider refuses to delete a Cloud SQL instance while
  # deletion_protection is true (its default, as in Terraform), so
  # `airctl destroy` fails on the database until this is set to false and
  # applied. Keep it true in production: the database holds all run
  # history. Tests and throwaway stacks set it to false.
  description = "Protect the Cloud SQL instance from deletion (set false, apply, then destroy)."
  default     = true
}

variable "ssh_source_ranges" {
  type        = list(string)
  description = "CIDR ranges allowed to SSH to the VM (the machine running airctl deploy)."
  default     = ["0.0.0.0/0"]
}

variable "log_retention_days" {
  type        = number
  description = "Age in days after which task logs are deleted from the bucket."
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be at least 1."
  }
}

variable "log_bucket_force_destroy" {
  type        = bool
  description = "Let destroy delete the log bucket with the task logs in it (tests, throwaway stacks); false keeps destroy from deleting logs."
  default     = false
}

variable "labels" {
  type        = map(string)
  description = "Extra labels for the VM, the database and the bucket."
  default     = {}
}
