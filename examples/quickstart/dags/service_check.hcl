# Operators beyond shell commands, against the local receiver that `make
# demo` starts (examples/quickstart/receiver; no account, no internet):
#   - an http task asks the service for today's export, through the
#     connection demo_service (demo.sh sets AIRD_CONN_DEMO_SERVICE);
#   - a file sensor waits for the export file, whose path it reads from
#     the http task's output, freeing its worker slot between pokes;
#   - a command reads the file; a webhook tells the receiver how the run ended.
dag "service_check" {
  description = "Ask a service for an export, wait for the file, report; notify a webhook"
  tags        = ["example", "operators"]
  params      = { receiver = "http://127.0.0.1:8099" }

  on_success {
    webhook { url = "${params.receiver}/hooks/service_check" }
  }
  on_failure {
    webhook { url = "${params.receiver}/hooks/service_check" }
  }

  task "request_export" {
    http {
      conn_id         = "demo_service"
      method          = "POST"
      url             = "/api/export?day=${run.ds_nodash}"
      expected_status = [200]
      check_jsonpath  = "$.ok"
      timeout         = "10s"
    }
  }

  task "wait_for_export" {
    wait_for {
      file { path = jsondecode(task.request_export.output).file }
      poke_interval = "2s"
      timeout       = "5m"
      mode          = "reschedule"
    }
    depends_on = [task.request_export]
  }

  task "report" {
    command    = "echo \"export for ${run.ds}:\"; cat '${jsondecode(task.request_export.output).file}'; tail -n 1 '${jsondecode(task.request_export.output).file}' | cut -d, -f2"
    depends_on = [task.wait_for_export, task.request_export]
  }
}
