package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a per-process registry with the Go runtime and
// process collectors (RSS, CPU, open fds) that every role exposes. A
// registry per process rather than prometheus.DefaultRegisterer keeps
// tests (many schedulers in one binary) from colliding.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in the Prometheus text (or OpenMetrics) format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
}

// Recorder is the real Sink: Prometheus metrics on a registry, and the
// same events to StatsD when Options.StatsDHost is set.
type Recorder struct {
	heartbeat       prometheus.Counter
	runSuccess      *prometheus.HistogramVec
	runFailed       *prometheus.HistogramVec
	tiStart         *prometheus.CounterVec
	tiFinish        *prometheus.CounterVec
	execOpen        prometheus.Gauge
	execQueued      prometheus.Gauge
	execRunning     prometheus.Gauge
	poolOpen        *prometheus.GaugeVec
	poolQueued      *prometheus.GaugeVec
	poolRunning     *prometheus.GaugeVec
	parseTime       prometheus.Gauge
	tasksExecutable prometheus.Gauge
	statsd          *statsdSink // nil without StatsD
}

var _ Sink = (*Recorder)(nil)

// runBuckets span seconds to a day: DAG runs range from a single `true`
// to nightly jobs of hours.
var runBuckets = []float64{1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400}

// New registers aird's metrics on reg and, if o names a StatsD host,
// opens the StatsD client. Close releases it.
func New(reg prometheus.Registerer, o Options) (*Recorder, error) {
	r := &Recorder{
		heartbeat: prometheus.NewCounter(prometheus.CounterOpts{Name: promName(nameSchedulerHeartbeat), Help: "Scheduler heartbeats."}),
		runSuccess: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: promName(nameDagRunDuration + "." + dagRunStateSuccess), Help: "Seconds from start to end of successful DAG runs.", Buckets: runBuckets,
		}, []string{"dag_id"}),
		runFailed: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: promName(nameDagRunDuration + "." + dagRunStateFailed), Help: "Seconds from start to end of failed DAG runs.", Buckets: runBuckets,
		}, []string{"dag_id"}),
		tiStart:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: promName(nameTIStart), Help: "Task tries started."}, []string{"dag_id", "task_id"}),
		tiFinish:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: promName(nameTIFinish), Help: "Task instances finished, by state."}, []string{"dag_id", "task_id", "state"}),
		execOpen:        prometheus.NewGauge(prometheus.GaugeOpts{Name: promName(nameExecutorOpenSlots), Help: "Executor slots free (parallelism minus queued and running)."}),
		execQueued:      prometheus.NewGauge(prometheus.GaugeOpts{Name: promName(nameExecutorQueued), Help: "Task instances queued."}),
		execRunning:     prometheus.NewGauge(prometheus.GaugeOpts{Name: promName(nameExecutorRunning), Help: "Task instances running."}),
		poolOpen:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: promName(namePoolOpenSlots), Help: "Free slots of a pool."}, []string{"pool"}),
		poolQueued:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: promName(namePoolQueuedSlots), Help: "Slots of a pool held by queued task instances."}, []string{"pool"}),
		poolRunning:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: promName(namePoolRunningSlots), Help: "Slots of a pool held by running task instances."}, []string{"pool"}),
		parseTime:       prometheus.NewGauge(prometheus.GaugeOpts{Name: promName(nameDagParseTime), Help: "Seconds the last parse of the DAG folder took."}),
		tasksExecutable: prometheus.NewGauge(prometheus.GaugeOpts{Name: promName(nameTasksExecutable), Help: "Task instances queued by the last scheduler pass."}),
	}
	for _, c := range []prometheus.Collector{
		r.heartbeat, r.runSuccess, r.runFailed, r.tiStart, r.tiFinish, r.execOpen, r.execQueued, r.execRunning,
		r.poolOpen, r.poolQueued, r.poolRunning, r.parseTime, r.tasksExecutable,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	if o.StatsDHost != "" {
		s, err := newStatsD(o)
		if err != nil {
			return nil, err
		}
		r.statsd = s
	}
	return r, nil
}

// Close flushes and closes the StatsD client, if any.
func (r *Recorder) Close() error {
	if r.statsd == nil {
		return nil
	}
	return r.statsd.close()
}

func (r *Recorder) SchedulerHeartbeat() {
	r.heartbeat.Inc()
	r.statsd.inc(nameSchedulerHeartbeat)
}

func (r *Recorder) DagRunFinished(dagID, state string, d time.Duration) {
	h := r.runSuccess
	switch state {
	case dagRunStateSuccess:
	case dagRunStateFailed:
		h = r.runFailed
	default:
		return // Airflow times only success and failed runs
	}
	h.WithLabelValues(dagID).Observe(d.Seconds())
	r.statsd.timing(nameDagRunDuration+"."+state+"."+statName(dagID), d)
}

func (r *Recorder) TaskStarted(dagID, taskID string) {
	r.tiStart.WithLabelValues(dagID, taskID).Inc()
	r.statsd.inc(nameTIStart + "." + statName(dagID) + "." + statName(taskID))
}

func (r *Recorder) TaskFinished(dagID, taskID, state string) {
	r.tiFinish.WithLabelValues(dagID, taskID, state).Inc()
	r.statsd.inc(nameTIFinish + "." + statName(dagID) + "." + statName(taskID) + "." + statName(state))
}

func (r *Recorder) ExecutorSlots(open, queued, running int) {
	r.execOpen.Set(float64(open))
	r.execQueued.Set(float64(queued))
	r.execRunning.Set(float64(running))
	r.statsd.gauge(nameExecutorOpenSlots, open)
	r.statsd.gauge(nameExecutorQueued, queued)
	r.statsd.gauge(nameExecutorRunning, running)
}

func (r *Recorder) PoolSlots(pool string, open, queued, running int) {
	r.poolOpen.WithLabelValues(pool).Set(float64(open))
	r.poolQueued.WithLabelValues(pool).Set(float64(queued))
	r.poolRunning.WithLabelValues(pool).Set(float64(running))
	p := "." + statName(pool)
	r.statsd.gauge(namePoolOpenSlots+p, open)
	r.statsd.gauge(namePoolQueuedSlots+p, queued)
	r.statsd.gauge(namePoolRunningSlots+p, running)
}

func (r *Recorder) DagParseTime(d time.Duration) {
	r.parseTime.Set(d.Seconds())
	r.statsd.timing(nameDagParseTime, d)
}

func (r *Recorder) TasksExecutable(n int) {
	r.tasksExecutable.Set(float64(n))
	r.statsd.gauge(nameTasksExecutable, n)
}
