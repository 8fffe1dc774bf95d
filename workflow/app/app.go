// Package app wires aird's parts together for the CLI roles: it opens the
// store named by the config, loads DAGs and runs the scheduler and workers.
package app

import (
	"context"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"strings"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/notify"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/postgres"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// App is an opened aird environment.
type App struct {
	Config *config.Config
	Store  store.Store
	Log    *slog.Logger
	// metrics is the running role's metrics (nil: discarded); set by
	// startMetrics at the start of a role.
	metrics *RoleMetrics
	// notifier delivers DAG notifications; nil in roles that send none.
	notifier *notify.Dispatcher
}

// startMetrics starts this role's metrics and returns the stop function.
func (a *App) startMetrics(ctx context.Context) (func(), error) {
	m, err := a.StartRoleMetrics(ctx)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	return m.Stop, nil
}

func (a *App) sink() metrics.Sink {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.Sink
}

// Open loads nothing but the store; callers migrate or run roles.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, withPassword(cfg.Database.URL, cfg.Database.Password))
	if err != nil {
		return nil, err
	}
	return &App{Config: cfg, Store: st, Log: log}, nil
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// OpenStore opens the metadata store a database URL names.
func OpenStore(ctx context.Context, url string) (store.Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, url)
	default:
		return nil, fmt.Errorf("database url %q: use sqlite:///path/aird.db or postgres://user@host/db; set database.url or AIRD_DATABASE_URL", redactURL(url))
	}
}

// withPassword adds the password from AIRD_DATABASE_PASSWORD to a
// postgres URL that has none, so aird.hcl never holds the secret.
func withPassword(raw, password string) string {
	u, err := neturl.Parse(raw)
	if password == "" || err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.User == nil {
		return raw
	}
	if _, set := u.User.Password(); set {
		return raw
	}
	u.User = neturl.UserPassword(u.User.Username(), password)
	return u.String()
}

// redactURL hides a password in a URL shown in an error.
func redactURL(raw string) string {
	if u, err := neturl.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable URL)"
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
}

// LoadDAGs parses the DAG folder without touching the store.
func (a *App) LoadDAGs(ctx context.Context) (*dag.Bag, error) {
	return dag.LoadDir(ctx, a.Config.Core.DagsFolder)
}

// DAG loads the folder and returns one DAG, or an error naming the folder.
func (a *App) DAG(ctx context.Context, id string) (*dag.DAG, error) {
	b, err := a.LoadDAGs(ctx)
	if err != nil {
		return nil, err
	}
	d := b.DAGs[id]
	if d == nil {
		return nil, fmt.Errorf("dag %q not found in %s (see `aird dags list` for DAGs and import errors)", id, a.Config.Core.DagsFolder)
	}
	return d, nil
}

// schedulerConfig maps aird.hcl onto the scheduler's settings.
func (a *App) schedulerConfig() scheduler.Config {
	c := a.Config
	return scheduler.Config{
		Parallelism:       c.Core.Parallelism,
		PollInterval:      config.Duration(c.Scheduler.PollInterval),
		HeartbeatInterval: config.Duration(c.Scheduler.HeartbeatInterval),
		OrphanTimeout:     config.Duration(c.Scheduler.OrphanTimeout),
		QueuedTimeout:     config.Duration(c.Scheduler.TaskQueuedTimeout),
		Metrics:           a.sink(),
		RunFinished:       a.runFinishedHook(),
	}
}

// runFinishedHook is the scheduler's RunFinished when notifications are on.
func (a *App) runFinishedHook() func(context.Context, store.DagRun) {
	if a.notifier == nil {
		return nil
	}
	return a.notifyRun
}

// localPool builds the local executor: a worker pool on an in-process
// queue that wakes the scheduler as soon as a task ends.
func (a *App) localPool(s *scheduler.Scheduler, q queue.Queue) *worker.Pool {
	pool := a.workerPool(q, s.DAG)
	pool.OnDone = func(store.TaskInstance) { s.Notify() }
	return pool
}
