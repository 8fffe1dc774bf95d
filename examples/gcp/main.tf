# The reference deployment of airctl: one VM running the workflow services,
# Cloud SQL Postgres for metadata, a GCS bucket for task logs, and a global
# HTTPS load balancer in front of the webserver. See README.md.

terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 5.30"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}

# Credentials come from Application Default Credentials (or GOOGLE_CREDENTIALS).
# Against gcpfake, GOOGLE_COMPUTE_CUSTOM_ENDPOINT, GOOGLE_SQL_CUSTOM_ENDPOINT
# and GOOGLE_STORAGE_CUSTOM_ENDPOINT point the provider at the fake and no
# credentials are needed.
provider "google" {
  project = var.project_id
  region  = var.region
  zone    = var.zone
}

locals {
  labels = merge(var.labels, {
    app        = var.name
    managed_by = "airctl"
  })
}
