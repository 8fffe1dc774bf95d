# Fan out to parallel shards, fan back in. One shard fails its first try
# with a transient error and succeeds on the retry.
dag "fan_out_fan_in" {
  description      = "Parallel shards with a retrying task, joined at the end"
  tags             = ["example"]
  max_active_tasks = 4

  task "start" {
    command = "echo \"run ${run.id}: starting 4 shards\""
  }

  task "shard_1" {
    command    = "echo shard 1 && sleep 1"
    depends_on = [task.start]
  }
  task "shard_2" {
    command    = "echo shard 2 && sleep 1"
    depends_on = [task.start]
  }
  task "shard_3" {
    command    = "echo shard 3 && sleep 1"
    depends_on = [task.start]
  }

  task "flaky_shard" {
    # AIRD_CTX_TRY_NUMBER is 1 on the first try.
    command         = "if [ \"$AIRD_CTX_TRY_NUMBER\" -lt 2 ]; then echo 'transient error: upstream API timed out' >&2; exit 1; fi; echo 'shard 4 ok on try '$AIRD_CTX_TRY_NUMBER"
    retries         = 2
    retry_delay     = "2s"
    priority_weight = 10
    depends_on      = [task.start]
  }

  task "join" {
    command    = "echo all shards done"
    depends_on = [task.shard_1, task.shard_2, task.shard_3, task.flaky_shard]
  }

  task "cleanup" {
    command      = "echo cleaning up whatever happened"
    trigger_rule = "all_done"
    depends_on   = [task.join]
  }
}
