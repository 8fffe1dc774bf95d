# An ETL chain: each step runs once the one before it succeeded.
# Trigger it with: aird dags trigger etl_chain --conf '{"table":"orders"}'
dag "etl_chain" {
  description = "Extract, transform, validate and load one table"
  schedule    = null # manual only
  tags        = ["example", "etl"]
  params      = { table = "events", rows = 1000 }

  default_args {
    retries           = 1
    retry_delay       = "5s"
    execution_timeout = "2m"
  }

  task "extract" {
    command     = "mkdir -p \"$STAGE\" && echo \"extracting ${params.rows} rows of ${params.table} for ${run.ds}\" && seq 1 ${params.rows} > \"$STAGE/raw.txt\""
    env         = { STAGE = "/tmp/aird-etl-${run.ds_nodash}" }
    working_dir = "/tmp"
  }

  task "transform" {
    command    = "awk '{ s += $1 } END { print s }' \"$STAGE/raw.txt\" > \"$STAGE/sum.txt\" && echo \"sum: $(cat $STAGE/sum.txt)\""
    env        = { STAGE = "/tmp/aird-etl-${run.ds_nodash}" }
    depends_on = [task.extract]
  }

  task "validate" {
    command    = "test -s \"$STAGE/sum.txt\" && echo valid"
    env        = { STAGE = "/tmp/aird-etl-${run.ds_nodash}" }
    depends_on = [task.transform]
  }

  task "load" {
    command    = "echo \"loading ${params.table} partition ${run.ds}\" && rm -rf \"$STAGE\""
    env        = { STAGE = "/tmp/aird-etl-${run.ds_nodash}" }
    depends_on = [task.validate]
  }
}
