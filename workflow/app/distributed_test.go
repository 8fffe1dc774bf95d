package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// TestSchedulerAndWorkersOnPostgresAndRedis runs the production topology
// in one test process: a scheduler and two workers, each with its own
// store connection, on a real Postgres and a real Redis.
func TestSchedulerAndWorkersOnPostgresAndRedis(t *testing.T) {
	pg := testenv.Postgres(t)
	rd := testenv.Redis(t)
	home := t.TempDir()
	dags := filepath.Join(home, "dags")
	mustWrite(t, filepath.Join(dags, "d.hcl"), `
dag "dist" {
  task "start" { command = "echo start" }
  task "fan" {
    command    = "echo fan"
    depends_on = [task.start]
  }
  task "fan2" {
    command    = "echo fan2"
    depends_on = [task.start]
  }
  task "join" {
    command    = "echo host $(hostname)"
    depends_on = [task.fan, task.fan2]
  }
}`)
	mustWrite(t, filepath.Join(home, "aird.hcl"), `
core {
  dags_folder                 = "`+dags+`"
  dags_are_paused_at_creation = false
}
database { url = "`+pg.CreateDatabase(t)+`" }
redis {
  address = "`+rd.Addr+`"
  lease   = "2s"
}
scheduler {
  poll_interval      = "5s"
  heartbeat_interval = "200ms"
}
worker { concurrency = 2 }
`)
	t.Setenv("AIRD_HOME", home)
	t.Setenv("AIRD_REDIS_PASSWORD", rd.Password)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	open := func() *app.App {
		cfg, err := config.Load("")
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return a
	}
	roles := []func(*app.App) func(context.Context) error{
		func(a *app.App) func(context.Context) error { return a.Scheduler },
		func(a *app.App) func(context.Context) error { return a.Worker },
		func(a *app.App) func(context.Context) error { return a.Worker },
	}
	for _, role := range roles {
		a := open()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer a.Close()
			if err := role(a)(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("role stopped: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	a := open()
	defer a.Close()
	d, err := a.DAG(ctx, "dist")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.Trigger(ctx, a.Store, d, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := a.Store.GetDagRun(ctx, "dist", run.RunID)
		if err == nil && r.State == store.RunSuccess {
			break
		}
		if err == nil && r.State == store.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run ended %v (err %v)", r.State, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the store, the observable outcome
	}
	tis, err := a.Store.ListTaskInstances(ctx, store.TIFilter{DagID: "dist", RunID: run.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range tis {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
		}
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
