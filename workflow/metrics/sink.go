// Package metrics records what the scheduler and workers do under
// Airflow's metric names, so dashboards built for Airflow carry over:
// Prometheus on a per-process registry (served at /metrics) and, when a
// StatsD host is configured, the same events as Airflow's dotted StatsD
// names. Callers see only Sink; Noop is the default everywhere, so code
// and tests that do not care need no setup.
package metrics

import "time"

// Sink receives scheduler and worker events. Implementations are safe for
// concurrent use and never block on the network: a metrics outage must not
// slow task execution.
type Sink interface {
	// SchedulerHeartbeat counts one scheduler heartbeat (scheduler_heartbeat).
	SchedulerHeartbeat()
	// DagRunFinished observes a run's duration under
	// dagrun.duration.<state> (success or failed).
	DagRunFinished(dagID, state string, d time.Duration)
	// TaskStarted counts a try starting on a worker (ti.start).
	TaskStarted(dagID, taskID string)
	// TaskFinished counts a task instance reaching state (ti.finish).
	TaskFinished(dagID, taskID, state string)
	// ExecutorSlots sets executor.open_slots, executor.queued_tasks and
	// executor.running_tasks.
	ExecutorSlots(open, queued, running int)
	// PoolSlots sets pool.open_slots, pool.queued_slots and
	// pool.running_slots for one pool.
	PoolSlots(pool string, open, queued, running int)
	// DagParseTime sets dag_processing.total_parse_time.
	DagParseTime(d time.Duration)
	// TasksExecutable sets scheduler.tasks.executable: task instances the
	// last pass queued within every limit.
	TasksExecutable(n int)
}

// Noop discards everything.
type Noop struct{}

var _ Sink = Noop{}

func (Noop) SchedulerHeartbeat()                          {}
func (Noop) DagRunFinished(string, string, time.Duration) {}
func (Noop) TaskStarted(string, string)                   {}
func (Noop) TaskFinished(string, string, string)          {}
func (Noop) ExecutorSlots(int, int, int)                  {}
func (Noop) PoolSlots(string, int, int, int)              {}
func (Noop) DagParseTime(time.Duration)                   {}
func (Noop) TasksExecutable(int)                          {}

// OrNoop returns s, or Noop when s is nil, so a zero config field works.
func OrNoop(s Sink) Sink {
	if s == nil {
		return Noop{}
	}
	return s
}
