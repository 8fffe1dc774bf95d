package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/redis/go-redis/v9"
)

// The distributed benchmarks run the same DAGs three ways in one run:
//
//   - local/sqlite: `aird standalone` wiring (scheduler + local executor)
//     on SQLite, the single-node default;
//   - local/postgres: the same wiring on Postgres, which isolates what
//     the broker costs;
//   - redis: a scheduler role and two worker roles (concurrency 8 each)
//     on Postgres and Redis, in this process for stability.
//
// Task timings come from the store (start_date and end_date of each task
// instance), so setup, DAG parsing and the run's first scheduler poll are
// not counted. Run with -benchtime=1x:
//
//	go test ./workflow/app/ -run '^$' -bench Distributed -benchtime=1x
const (
	benchWorkers     = 2
	benchConcurrency = 8
)

// benchEnv is one topology ready to run DAGs.
type benchEnv struct {
	b      *testing.B
	client *app.App // the app the benchmark reads the store through
	dates  int
}

// fanOut is a DAG of n independent `true` tasks.
func fanOut(id string, n int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "dag %q {\n  max_active_runs = 1\n  max_active_tasks = %d\n", id, n)
	for i := range n {
		fmt.Fprintf(&s, "  task \"t%04d\" { command = \"true\" }\n", i)
	}
	s.WriteString("}\n")
	return s.String()
}

// chain is a DAG of n `true` tasks, each depending on the one before.
func chain(id string, n int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "dag %q {\n  task \"t0000\" { command = \"true\" }\n", id)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&s, "  task \"t%04d\" {\n    command = \"true\"\n    depends_on = [task.t%04d]\n  }\n", i, i-1)
	}
	s.WriteString("}\n")
	return s.String()
}

// startEnv writes a home for the topology ("local" or "redis"), starts its
// roles and returns once the DAGs are registered. database is a store URL.
func startEnv(b *testing.B, topology, database, redisAddr, redisPassword string, dagFiles map[string]string) *benchEnv {
	b.Helper()
	home := b.TempDir()
	dags := filepath.Join(home, "dags")
	for name, src := range dagFiles {
		writeBenchFile(b, filepath.Join(dags, name+".hcl"), src)
	}
	parallelism := benchWorkers * benchConcurrency
	conf := `
core {
  dags_folder                 = "` + dags + `"
  dags_are_paused_at_creation = false
  parallelism                 = ` + fmt.Sprint(4*parallelism) + `
}
database { url = "` + database + `" }
logging { base_log_folder = "` + filepath.Join(home, "logs") + `" }
scheduler {
  poll_interval      = "200ms"
  heartbeat_interval = "1s"
}
`
	if topology == "redis" {
		conf += `redis {
  address  = "` + redisAddr + `"
  password = "` + redisPassword + `"
  lease    = "10s"
}
worker { concurrency = ` + fmt.Sprint(benchConcurrency) + ` }
`
	} else {
		conf += `worker { concurrency = ` + fmt.Sprint(parallelism) + ` }
`
	}
	path := filepath.Join(home, "aird.hcl")
	writeBenchFile(b, path, conf)

	ctx, cancel := context.WithCancel(context.Background())
	open := func() *app.App {
		cfg, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Webserver.Port = 0 // standalone's webserver: any free port
		a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Store.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		return a
	}
	var roles []func(*app.App) func(context.Context) error
	if topology == "redis" {
		roles = append(roles, func(a *app.App) func(context.Context) error { return a.Scheduler })
		for range benchWorkers {
			roles = append(roles, func(a *app.App) func(context.Context) error { return a.Worker })
		}
	} else {
		roles = append(roles, func(a *app.App) func(context.Context) error { return a.Standalone })
	}
	var wg sync.WaitGroup
	for _, role := range roles {
		a := open()
		wg.Go(func() {
			defer a.Close()
			if err := role(a)(ctx); err != nil && ctx.Err() == nil {
				b.Errorf("%s role stopped: %v", topology, err)
			}
		})
	}
	client := open()
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		client.Close()
	})
	env := &benchEnv{b: b, client: client}
	for id := range dagFiles {
		env.waitFor("dag "+id+" registered", func() bool {
			_, err := client.Store.GetDAG(ctx, id)
			return err == nil
		})
	}
	return env
}

func (e *benchEnv) waitFor(what string, cond func() bool) {
	e.b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			e.b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling the store, the observable outcome
	}
}

// run triggers one run of dagID, waits for it to succeed and returns its
// task instances ordered by task ID.
func (e *benchEnv) run(dagID string) []store.TaskInstance {
	e.b.Helper()
	ctx := context.Background()
	d, err := e.client.DAG(ctx, dagID)
	if err != nil {
		e.b.Fatal(err)
	}
	e.dates++
	r, err := scheduler.Trigger(ctx, e.client.Store, d, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, e.dates), nil)
	if err != nil {
		e.b.Fatal(err)
	}
	e.waitFor("run "+r.RunID, func() bool {
		got, err := e.client.Store.GetDagRun(ctx, dagID, r.RunID)
		if err == nil && got.State == store.RunFailed {
			e.b.Fatalf("run %s failed", r.RunID)
		}
		return err == nil && got.State == store.RunSuccess
	})
	tis, err := e.client.Store.ListTaskInstances(ctx, store.TIFilter{DagID: dagID, RunID: r.RunID})
	if err != nil {
		e.b.Fatal(err)
	}
	slices.SortFunc(tis, func(x, y store.TaskInstance) int { return strings.Compare(x.TaskID, y.TaskID) })
	for _, ti := range tis {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			e.b.Fatalf("%s: %s try %d", ti.TaskID, ti.State, ti.TryNumber)
		}
	}
	return tis
}

// throughput is tasks per second from the first start to the last end.
func throughput(tis []store.TaskInstance) float64 {
	first, last := tis[0].StartDate, tis[0].EndDate
	for _, ti := range tis {
		if ti.StartDate.Before(first) {
			first = ti.StartDate
		}
		if ti.EndDate.After(last) {
			last = ti.EndDate
		}
	}
	return float64(len(tis)) / last.Sub(first).Seconds()
}

// handoffs are the gaps between a chain task ending and the next starting.
func handoffs(tis []store.TaskInstance) []time.Duration {
	gaps := make([]time.Duration, 0, len(tis)-1)
	for i := 1; i < len(tis); i++ {
		gaps = append(gaps, tis[i].StartDate.Sub(tis[i-1].EndDate))
	}
	return gaps
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func writeBenchFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func msec(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkDistributedVsLocal runs 1,000 independent `true` tasks and a
// 100-task chain through the local executor (SQLite and Postgres) and
// through Redis with 2 workers × concurrency 8, and reports tasks/s and
// the chain hand-off p50/p95 of each, plus the Redis/local ratios.
func BenchmarkDistributedVsLocal(b *testing.B) {
	const wide, long = 1000, 100
	b.Setenv("AIRD_HOME", b.TempDir())
	pg := testenv.Postgres(b)
	rd := testenv.Redis(b)
	// The benchmark measures the broker as deployed: templates/redis.conf.tmpl
	// fsyncs the AOF every second, not on every write as the tests' server does.
	rc := redis.NewClient(&redis.Options{Addr: rd.Addr, Password: rd.Password})
	if err := rc.ConfigSet(context.Background(), "appendfsync", "everysec").Err(); err != nil {
		b.Fatal(err)
	}
	rc.Close()
	dagFiles := map[string]string{"wide": fanOut("wide", wide), "chain": chain("chain", long)}
	envs := []struct {
		name string
		env  *benchEnv
	}{
		{"local_sqlite", startEnv(b, "local", "sqlite://"+filepath.Join(b.TempDir(), "aird.db"), "", "", dagFiles)},
		{"local_pg", startEnv(b, "local", pg.CreateDatabase(b), "", "", dagFiles)},
		{"redis", startEnv(b, "redis", pg.CreateDatabase(b), rd.Addr, rd.Password, dagFiles)},
	}
	rate := map[string][]float64{}
	gaps := map[string][]time.Duration{}
	b.ResetTimer()
	for b.Loop() {
		for _, e := range envs {
			rate[e.name] = append(rate[e.name], throughput(e.env.run("wide")))
			gaps[e.name] = append(gaps[e.name], handoffs(e.env.run("chain"))...)
		}
	}
	b.StopTimer()
	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	for _, e := range envs {
		b.ReportMetric(mean(rate[e.name]), e.name+"_tasks/s")
		b.ReportMetric(msec(pct(gaps[e.name], 0.50)), e.name+"_handoff_p50_ms")
		b.ReportMetric(msec(pct(gaps[e.name], 0.95)), e.name+"_handoff_p95_ms")
		b.Logf("%-12s %7.1f tasks/s (1,000 `true`), chain hand-off p50 %6.1f ms p95 %6.1f ms max %6.1f ms",
			e.name, mean(rate[e.name]), msec(pct(gaps[e.name], 0.5)), msec(pct(gaps[e.name], 0.95)), msec(pct(gaps[e.name], 1)))
	}
	b.ReportMetric(mean(rate["redis"])/mean(rate["local_sqlite"]), "redis/local_sqlite_throughput")
	b.ReportMetric(mean(rate["redis"])/mean(rate["local_pg"]), "redis/local_pg_throughput")
}
