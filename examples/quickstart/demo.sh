#!/usr/bin/env bash
# make demo: run aird standalone on the example DAGs in a temp home,
# trigger the manual DAGs, wait for every run to finish, then keep running
# until Ctrl-C.
set -euo pipefail
aird=$(realpath "${1:-bin/aird}")
here=$(cd "$(dirname "$0")" && pwd)
export AIRD_HOME=$(mktemp -d /tmp/aird-demo.XXXXXX)
cat > "$AIRD_HOME/aird.hcl" <<CFG
core {
  dags_folder                 = "$here/dags"
  dags_are_paused_at_creation = false
  parallelism                 = 8
}
CFG

# The local service of the service_check DAG: its API, the export files it
# writes, and the webhook its notifier posts to (no account, no internet).
receiver_addr=127.0.0.1:${AIRD_DEMO_RECEIVER_PORT:-8099}
mkdir -p "$AIRD_HOME/exports"
(cd "$here/../.." && go build -o "$AIRD_HOME/receiver" ./examples/quickstart/receiver)
"$AIRD_HOME/receiver" -addr "$receiver_addr" -dir "$AIRD_HOME/exports" &
receiver_pid=$!
export AIRD_CONN_DEMO_SERVICE="http://$receiver_addr"

echo "==> AIRD_HOME=$AIRD_HOME"
echo "    state: $AIRD_HOME/aird.db (SQLite)   task logs: $AIRD_HOME/logs/{dag_id}/{task_id}/{ts}/{try}.log"
"$aird" dags list
# A local-only demo account; real deployments create users without --password.
"$aird" users create --username admin --role Admin --email admin@localhost --password admin-demo >/dev/null
"$aird" standalone --log-level warn --port "${AIRD_DEMO_PORT:-8080}" &
pid=$!
trap 'kill -TERM $pid $receiver_pid 2>/dev/null; wait $pid $receiver_pid' INT TERM EXIT

"$aird" dags trigger etl_chain --conf '{"table":"orders","rows":500}'
"$aird" dags trigger fan_out_fan_in
"$aird" dags trigger service_check --conf "{\"receiver\":\"http://$receiver_addr\"}"

echo "==> waiting for the example runs to finish (daily_report catches up 7 days)"
for _ in $(seq 1 120); do
  active=$("$aird" dags list-runs --state queued,running --no-header | wc -l)
  total=$("$aird" dags list-runs --no-header | wc -l)
  [ "$active" -eq 0 ] && [ "$total" -ge 10 ] && break
  sleep 1
done
"$aird" dags list-runs
echo "==> a task log:"
find "$AIRD_HOME/logs/fan_out_fan_in/flaky_shard" -name '*.log' | sort | while read -r f; do echo "--- $f"; cat "$f"; done
echo "==> service_check: the http task's output led its file sensor to the export; the report read it:"
find "$AIRD_HOME/logs/service_check/report" -name '*.log' | sort | while read -r f; do cat "$f"; done
echo "==> webhooks the receiver got (the run's on_success notifier):"
curl -fsS "http://$receiver_addr/hooks" || true
echo
echo "==> UI and API: http://127.0.0.1:${AIRD_DEMO_PORT:-8080}/ (user admin, password admin-demo)"
echo "==> aird standalone keeps running (pid $pid); Ctrl-C to stop. Try: AIRD_HOME=$AIRD_HOME $aird dags trigger etl_chain"
wait $pid
