package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/monitor"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

const (
	user     = "viewer"
	password = "s3cret-pass"
	host     = "w1.example"
	pid      = 4242
)

// fixture is a store holding one registered worker that processed three
// task instances (two succeeded, one failed) and runs a fourth, plus one
// task instance still queued.
func fixture(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.User{Username: user, Role: store.RoleViewer, PasswordHash: string(hash), Active: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := st.StartJob(ctx, store.Job{JobType: "scheduler", State: "running", Hostname: "sched", PID: 1, StartDate: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartJob(ctx, store.Job{JobType: "worker", State: "running", Hostname: host, PID: pid, StartDate: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertDAG(ctx, store.DAG{DagID: "etl", IsActive: true}); err != nil {
		t.Fatal(err)
	}
	tasks := map[string]store.TIState{"a": store.TISuccess, "b": store.TISuccess, "c": store.TIFailed, "d": store.TIRunning, "e": store.TIQueued}
	var tis []store.TaskInstance
	for id := range tasks {
		tis = append(tis, store.TaskInstance{TIKey: store.TIKey{TaskID: id}, Queue: "default", Pool: store.DefaultPool, PoolSlots: 1})
	}
	run, err := st.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "manual__1", RunType: store.RunManual, State: store.RunRunning, LogicalDate: now}, tis)
	if err != nil {
		t.Fatal(err)
	}
	for id, state := range tasks {
		_, err := st.UpdateTaskInstance(ctx, store.TIKey{DagID: "etl", RunID: run.RunID, TaskID: id}, func(ti *store.TaskInstance) error {
			ti.State, ti.TryNumber, ti.QueuedAt = state, 1, now.Add(-2*time.Second)
			if state != store.TIQueued {
				ti.Hostname, ti.PID, ti.StartDate = host, pid, now.Add(-time.Second)
			}
			if state.Finished() {
				ti.EndDate = now
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func serve(t *testing.T, o monitor.Options) *httptest.Server {
	t.Helper()
	h, err := monitor.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, user, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, body := get(t, url, user, password)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

func checkWorkers(t *testing.T, base string) {
	t.Helper()
	var got struct{ Workers []monitor.Worker }
	getJSON(t, base+"/api/workers", &got)
	if len(got.Workers) != 1 {
		t.Fatalf("workers = %+v, want the one registered worker (the scheduler ran no task)", got.Workers)
	}
	w := got.Workers[0]
	if w.Name != "worker@"+host || w.PID != pid || w.Role != "worker" || !w.Alive || w.State != "running" ||
		w.Active != 1 || w.Processed != 3 || w.Failed != 1 || w.LastHeartbeat.IsZero() {
		t.Errorf("worker = %+v; want alive %s with 1 active, 3 processed, 1 failed", w, host)
	}
}

func TestRedisBroker(t *testing.T) {
	srv := testenv.Redis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	t.Cleanup(func() { client.Close() })
	q := queue.NewRedis(client, queue.RedisOptions{})
	t.Cleanup(func() { q.Close() })
	ctx := context.Background()
	for i := range 3 {
		if err := q.Push(ctx, queue.Message{TIKey: store.TIKey{DagID: "etl", RunID: "r", TaskID: string(rune('x' + i))}, Try: 1, Queue: "default"}); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := q.Pop(ctx, []string{"default"})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Ack(ctx)

	reg := metrics.NewRegistry()
	base := serve(t, monitor.Options{Store: fixture(t), Broker: monitor.RedisBroker(q), Queues: []string{"default", "reports"}, Metrics: reg}).URL
	checkWorkers(t, base)
	var got monitor.Queues
	getJSON(t, base+"/api/queues", &got)
	want := []monitor.Queue{{Name: "default", Waiting: 2, Queued: 1, Running: 1}, {Name: "reports"}}
	if len(got.Queues) != 2 || got.Queues[0] != want[0] || got.Queues[1] != want[1] || got.Leased == nil || *got.Leased != 1 || got.Error != "" {
		t.Errorf("queues = %+v (leased %v), want %+v and 1 leased", got.Queues, got.Leased, want)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"aird_flower_queue_length", map[string]string{"queue": "default"}, 2},
		{"aird_flower_queue_length", map[string]string{"queue": "reports"}, 0},
		{"aird_flower_worker_online", map[string]string{"worker": "worker@" + host}, 1},
		{"aird_flower_worker_number_of_currently_executing_tasks", map[string]string{"worker": "worker@" + host}, 1},
	} {
		if v, err := metrics.Value(reg, c.name, c.labels); err != nil || v != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.name, c.labels, v, err, c.want)
		}
	}
}

func TestLocalBrokerTasksAndPage(t *testing.T) {
	q := queue.NewLocal()
	t.Cleanup(func() { q.Close() })
	if err := q.Push(context.Background(), queue.Message{TIKey: store.TIKey{DagID: "etl", RunID: "r", TaskID: "e"}, Try: 1, Queue: "default"}); err != nil {
		t.Fatal(err)
	}
	base := serve(t, monitor.Options{Store: fixture(t), Broker: monitor.LocalBroker(q)}).URL
	checkWorkers(t, base)
	var qs monitor.Queues
	getJSON(t, base+"/api/queues", &qs)
	if len(qs.Queues) != 1 || qs.Queues[0] != (monitor.Queue{Name: "default", Waiting: 1, Queued: 1, Running: 1}) || qs.Leased != nil {
		t.Errorf("queues = %+v", qs)
	}

	var tasks struct{ Tasks []monitor.Task }
	getJSON(t, base+"/api/tasks?state=success,failed", &tasks)
	if len(tasks.Tasks) != 3 {
		t.Fatalf("tasks = %+v, want the 3 finished", tasks.Tasks)
	}
	for _, ti := range tasks.Tasks {
		if ti.Runtime < 0.9 || ti.Hostname != host || ti.StartedAt.IsZero() {
			t.Errorf("task %+v: want a runtime of about 1s on %s", ti, host)
		}
	}
	getJSON(t, base+"/api/tasks?limit=2", &tasks)
	if len(tasks.Tasks) != 2 {
		t.Errorf("limit=2 gave %d tasks", len(tasks.Tasks))
	}
	if code, _ := get(t, base+"/api/tasks?state=bogus", user, password); code != http.StatusBadRequest {
		t.Errorf("unknown state: %d, want 400", code)
	}

	code, page := get(t, base+"/", user, password)
	if code != http.StatusOK {
		t.Fatalf("page: %d %s", code, page)
	}
	for _, want := range []string{`http-equiv="refresh"`, "worker@" + host, "online", "<td>default</td>", "up_for_retry", "etl"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if code, body := get(t, base+"/metrics", "", ""); code != http.StatusOK || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, `aird_flower_queue_length{queue="default"} 1`) {
		t.Errorf("/metrics: %d", code)
	}
}

func TestAuthRequired(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	u, err := st.GetUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, monitor.Options{Store: st}).URL
	for _, path := range []string{"/", "/api/workers", "/api/queues", "/api/tasks"} {
		for _, c := range []struct{ user, pass string }{{"", ""}, {user, "wrong"}, {"nobody", password}} {
			code, _ := get(t, base+path, c.user, c.pass)
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s as %q/%q: %d, want 401", path, c.user, c.pass, code)
			}
		}
		if code, body := get(t, base+path, user, password); code != http.StatusOK {
			t.Errorf("GET %s signed in: %d %s", path, code, body)
		}
	}
	// A deactivated user is refused even with credentials verified before.
	u.Active = false
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, base+"/api/workers", user, password); code != http.StatusUnauthorized {
		t.Errorf("inactive user: %d, want 401", code)
	}
}

// TestWorkerLiveness: a worker registered after the first request shows
// up; a silent one is offline; an ended one stays listed as ended.
func TestWorkerLiveness(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	base := serve(t, monitor.Options{Store: st, AliveWithin: time.Minute}).URL
	checkWorkers(t, base)
	now := time.Now()
	if _, err := st.StartJob(ctx, store.Job{JobType: "worker", State: "running", Hostname: "w2", PID: 7, StartDate: now.Add(-time.Hour), LatestHeartbeat: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ended, err := st.StartJob(ctx, store.Job{JobType: "worker", State: "running", Hostname: "w3", PID: 8, StartDate: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EndJob(ctx, ended.ID, "success", now); err != nil {
		t.Fatal(err)
	}
	var got struct{ Workers []monitor.Worker }
	getJSON(t, base+"/api/workers", &got)
	states := map[string]string{}
	for _, w := range got.Workers {
		states[w.Hostname] = fmt.Sprintf("%s alive=%v", w.State, w.Alive)
	}
	want := map[string]string{host: "running alive=true", "w2": "running alive=false", "w3": "success alive=false"}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("workers = %v, want %v", states, want)
	}
}

// TestWorkerNames: workers show under the name they registered with, so
// two on one host are two rows; unnamed jobs (from before worker.name)
// are worker@hostname, and a name two processes share gets their pids.
func TestWorkerNames(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	now := time.Now()
	for _, j := range []store.Job{
		{Hostname: "h", PID: 11, Name: "worker1@h"},
		{Hostname: "h", PID: 12, Name: "worker2@h"},
		{Hostname: "old", PID: 21},
		{Hostname: "old", PID: 22},
		{Hostname: "twin", PID: 31, Name: "same@twin"},
		{Hostname: "twin", PID: 32, Name: "same@twin"},
	} {
		j.JobType, j.State, j.StartDate = "worker", "running", now
		if _, err := st.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	base := serve(t, monitor.Options{Store: st, AliveWithin: time.Minute}).URL
	var got struct{ Workers []monitor.Worker }
	getJSON(t, base+"/api/workers", &got)
	names := map[int]string{}
	for _, w := range got.Workers {
		names[w.PID] = w.Name
	}
	want := map[int]string{
		pid: "worker@" + host,
		11:  "worker1@h", 12: "worker2@h",
		21: "worker@old (pid 21)", 22: "worker@old (pid 22)",
		31: "same@twin (pid 31)", 32: "same@twin (pid 32)",
	}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("worker names by pid = %v, want %v", names, want)
	}
	_, page := get(t, base+"/", user, password)
	for _, name := range []string{"worker1@h", "worker2@h"} {
		if !strings.Contains(page, "<td>"+name+"</td>") {
			t.Errorf("page lacks %s", name)
		}
	}
}
