# A daily job with catchup: every day from start_date to end_date gets a
# run, oldest first, two at a time.
dag "daily_report" {
  description     = "Build a daily report for each day of the first week of November"
  schedule        = "@daily"
  timezone        = "Asia/Seoul"
  start_date      = "2026-11-01"
  end_date        = "2026-11-07"
  catchup         = true
  max_active_runs = 2
  tags            = ["example", "daily"]

  task "collect" {
    command = "echo \"collecting data for ${run.ds} (interval ${run.data_interval_start} to ${run.data_interval_end})\""
  }

  task "report" {
    command    = "echo \"report for ${run.ds} ready\""
    depends_on = [task.collect]
  }
}
