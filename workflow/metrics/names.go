package metrics

// Airflow's metric names. StatsD gets them dotted with the dimensions
// appended (Airflow's untagged form, e.g. ti.finish.<dag>.<task>.<state>);
// Prometheus gets them with underscores and the dimensions as labels, as
// Airflow's statsd_exporter mapping produces them, prefixed "aird_".
const (
	nameSchedulerHeartbeat = "scheduler_heartbeat"
	nameDagRunDuration     = "dagrun.duration" // + .success / .failed
	nameTIStart            = "ti.start"
	nameTIFinish           = "ti.finish"
	nameExecutorOpenSlots  = "executor.open_slots"
	nameExecutorQueued     = "executor.queued_tasks"
	nameExecutorRunning    = "executor.running_tasks"
	namePoolOpenSlots      = "pool.open_slots"
	namePoolQueuedSlots    = "pool.queued_slots"
	namePoolRunningSlots   = "pool.running_slots"
	nameDagParseTime       = "dag_processing.total_parse_time"
	nameTasksExecutable    = "scheduler.tasks.executable"
	promNamespace          = "aird"
	defaultStatsDPrefix    = "aird"
	dagRunStateSuccess     = "success"
	dagRunStateFailed      = "failed"
)

// promName turns an Airflow name into a Prometheus one: aird_ti_finish.
func promName(airflow string) string {
	b := []byte(promNamespace + "_" + airflow)
	for i, c := range b {
		if c == '.' {
			b[i] = '_'
		}
	}
	return string(b)
}

// statName makes a StatsD path component safe: StatsD splits on dots and
// the client rejects anything outside [A-Za-z0-9_.-], so DAG and task IDs
// (which may hold dots or other characters) get those replaced by "_".
func statName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}
