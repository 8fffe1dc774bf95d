package metrics_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/metrics"
)

// record feeds one of every event to s.
func record(s metrics.Sink) {
	s.SchedulerHeartbeat()
	s.DagRunFinished("etl", "success", 90*time.Second)
	s.DagRunFinished("etl", "failed", time.Second)
	s.DagRunFinished("etl", "running", time.Second) // not timed, as in Airflow
	s.TaskStarted("etl", "extract")
	s.TaskFinished("etl", "extract", "success")
	s.TaskFinished("etl", "load.all", "failed")
	s.ExecutorSlots(30, 1, 1)
	s.PoolSlots("default_pool", 126, 1, 1)
	s.DagParseTime(250 * time.Millisecond)
	s.TasksExecutable(3)
}

func TestPrometheusValuesAndHandler(t *testing.T) {
	reg := metrics.NewRegistry()
	rec, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	record(rec)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"aird_scheduler_heartbeat", nil, 1},
		{"aird_dagrun_duration_success", map[string]string{"dag_id": "etl"}, 1},
		{"aird_dagrun_duration_failed", map[string]string{"dag_id": "etl"}, 1},
		{"aird_ti_start", map[string]string{"dag_id": "etl", "task_id": "extract"}, 1},
		{"aird_ti_finish", map[string]string{"dag_id": "etl", "task_id": "extract", "state": "success"}, 1},
		{"aird_ti_finish", map[string]string{"dag_id": "etl", "task_id": "load.all", "state": "failed"}, 1},
		{"aird_executor_open_slots", nil, 30},
		{"aird_executor_queued_tasks", nil, 1},
		{"aird_executor_running_tasks", nil, 1},
		{"aird_pool_open_slots", map[string]string{"pool": "default_pool"}, 126},
		{"aird_pool_queued_slots", map[string]string{"pool": "default_pool"}, 1},
		{"aird_pool_running_slots", map[string]string{"pool": "default_pool"}, 1},
		{"aird_dag_processing_total_parse_time", nil, 0.25},
		{"aird_scheduler_tasks_executable", nil, 3},
	} {
		got, err := metrics.Value(reg, c.name, c.labels)
		if err != nil || got != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.name, c.labels, got, err, c.want)
		}
	}

	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"aird_scheduler_heartbeat 1",
		`aird_dagrun_duration_success_bucket{dag_id="etl",le="300"} 1`,
		`aird_ti_finish{dag_id="etl",state="success",task_id="extract"} 1`,
		`aird_pool_open_slots{pool="default_pool"} 126`,
		"aird_executor_open_slots 30",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A registry per process: two recorders on one registry collide, on two
// they do not.
func TestRegistryPerRecorder(t *testing.T) {
	reg := metrics.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Fatal("second recorder on one registry: want an error")
	}
	if _, err := metrics.New(metrics.NewRegistry(), metrics.Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestStatsDLines(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	rec, err := metrics.New(metrics.NewRegistry(), metrics.Options{StatsDHost: "127.0.0.1", StatsDPort: port, StatsDPrefix: "airflow", StatsDFlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	record(rec)
	// Close flushes the buffer, so every line is on its way when it returns.
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"airflow.scheduler_heartbeat:1|c":                false,
		"airflow.dagrun.duration.success.etl:90000|ms":   false,
		"airflow.dagrun.duration.failed.etl:1000|ms":     false,
		"airflow.ti.start.etl.extract:1|c":               false,
		"airflow.ti.finish.etl.extract.success:1|c":      false,
		"airflow.ti.finish.etl.load_all.failed:1|c":      false,
		"airflow.executor.open_slots:30|g":               false,
		"airflow.executor.queued_tasks:1|g":              false,
		"airflow.executor.running_tasks:1|g":             false,
		"airflow.pool.open_slots.default_pool:126|g":     false,
		"airflow.pool.queued_slots.default_pool:1|g":     false,
		"airflow.pool.running_slots.default_pool:1|g":    false,
		"airflow.dag_processing.total_parse_time:250|ms": false,
		"airflow.scheduler.tasks.executable:3|g":         false,
	}
	missing := len(want)
	buf := make([]byte, 65536)
	// The deadline only bounds a failing test; reads return as datagrams arrive.
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for missing > 0 {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read statsd datagram: %v; got %q, still missing %d", err, got, missing)
		}
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			got = append(got, line)
			if seen, ok := want[line]; ok && !seen {
				want[line] = true
				missing--
			}
		}
	}
}
