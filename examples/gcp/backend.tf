# State lives in a GCS bucket, locked with a lock object (as Terraform's gcs
# backend). Create the bucket once, by hand, before `airctl init`:
#
#   gcloud storage buckets create gs://YOUR-PROJECT-airctl-state --location=US --uniform-bucket-level-access
#
# airctl init has no -backend-config: edit the bucket name here, or delete
# this file to keep the state in the local file airctl.tfstate (what the
# tests and the gcpfake walkthrough in README.md do).
terraform {
  backend "gcs" {
    bucket = "my-project-airctl-state"
    prefix = "airflow/prod"
  }
}
