# Triggered through the REST API by the e2e test; runs on the Redis worker.
dag "e2e_hello" {
  schedule   = null
  start_date = "2026-01-01"
  catchup    = false

  task "hello" {
    command = "echo \"hello from $(hostname) for ${run.ds}\""
  }
}
