package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/worker"
)

// broker opens the Redis broker database of the distributed roles.
func (a *App) broker() (*redis.Client, *queue.Redis, error) {
	c := a.Config.Redis
	if c.Address == "" {
		return nil, nil, errors.New("redis.address is not set: the scheduler and worker roles need the Redis broker (or run `aird standalone`)")
	}
	client := redis.NewClient(&redis.Options{Addr: c.Address, Password: c.Password, DB: c.BrokerDB})
	q := queue.NewRedis(client, queue.RedisOptions{Lease: config.Duration(c.Lease), Logger: a.Log})
	return client, q, nil
}

// Scheduler runs the scheduler role: runs and task instances in the store,
// tasks pushed to the Redis broker for `aird worker` processes. A task
// finishing on any worker wakes it at once through the broker's events.
func (a *App) Scheduler(ctx context.Context) error {
	client, q, err := a.broker()
	if err != nil {
		return err
	}
	defer client.Close()
	stop, err := a.startMetrics(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var s *scheduler.Scheduler
	defer a.startNotify(ctx, func(id string) *dag.DAG { return s.DAG(id) })()
	cfg := a.schedulerConfig()
	cfg.Distributed = true
	s = scheduler.New(cfg, a.Store, q, a.Log)
	go a.runSLA(ctx, s)
	folder := scheduler.NewDAGFolder(a.Config.Core.DagsFolder, *a.Config.Core.DagsArePausedAtCreation)
	if _, err := folder.Load(ctx, s); err != nil {
		return err
	}
	go folder.Watch(ctx, s, config.Duration(a.Config.Scheduler.ParseInterval))
	done, err := q.SubscribeDone(ctx)
	if err != nil {
		return fmt.Errorf("subscribe to task events: %w", err)
	}
	go func() {
		for range done {
			s.Notify()
		}
	}()
	a.Log.Info("aird scheduler started", "broker", a.Config.Redis.Address, "dags_folder", folder.Dir)
	return s.Run(ctx)
}

// Worker runs the worker role: tasks from the named queues of the Redis
// broker, at most worker.concurrency at a time, each acknowledged only
// after its result is stored.
func (a *App) Worker(ctx context.Context) error {
	client, q, err := a.broker()
	if err != nil {
		return err
	}
	defer client.Close()
	stop, err := a.startMetrics(ctx)
	if err != nil {
		return err
	}
	defer stop()
	dags := &liveDAGs{dir: a.Config.Core.DagsFolder}
	if err := dags.reload(ctx); err != nil {
		return err
	}
	go dags.watch(ctx, config.Duration(a.Config.Scheduler.ParseInterval), a.Log)
	defer a.startNotify(ctx, dags.get)()
	job, err := a.startWorkerJob(ctx)
	if err != nil {
		return err
	}
	// A closure: the end date is when the worker stops, not when it started.
	defer func() { _ = a.Store.EndJob(context.WithoutCancel(ctx), job.ID, "success", time.Now()) }()
	// Heartbeats go on through the drain: the worker is alive (flower says
	// so) until its running tasks have finished or been handed back.
	beatCtx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBeats()
	go heartbeat(beatCtx, a.Store, job.ID, config.Duration(a.Config.Scheduler.HeartbeatInterval))
	// The log server outlives ctx: tasks still running in the shutdown
	// grace keep writing logs the webserver should show; it stops once the
	// pool has drained (pool.Run returned).
	defer a.serveWorkerLogs(context.WithoutCancel(ctx))()
	pool := a.workerPool(q, dags.get)
	// No OnDone: acking a message tells the schedulers (RedisLease.Ack).
	pool.LeaseRenewal = config.Duration(a.Config.Redis.Lease) / 3
	a.Log.Info("aird worker started", "name", job.Name, "queues", pool.Queues, "concurrency", pool.Concurrency, "broker", a.Config.Redis.Address)
	// Said when the drain starts, so an operator (and a test) can tell a
	// draining worker from a busy one.
	defer context.AfterFunc(ctx, func() {
		a.Log.Info("aird worker draining: no new tasks, running ones get worker.shutdown_grace", "shutdown_grace", pool.ShutdownGrace)
	})()
	return pool.Run(ctx)
}

// workerPool builds a pool running tasks with this app's settings.
func (a *App) workerPool(q queue.Queue, dags worker.DAGLookup) *worker.Pool {
	c := a.Config
	host, _ := os.Hostname()
	return &worker.Pool{
		Queue: q,
		Runner: &worker.Runner{
			Store: a.Store, DAGs: dags, LogDir: c.Logging.BaseLogFolder, Hostname: host,
			KillGrace: config.Duration(c.Worker.KillGrace), Log: a.Log,
			SoftTimeLimit: config.Duration(c.Worker.SoftTimeLimit), HardTimeLimit: config.Duration(c.Worker.HardTimeLimit),
			Shipper: a.workerShipper(), Metrics: a.sink(), Notify: a.taskFinishedHook(),
			Conns: a.connResolver(),
		},
		Queues:        c.Worker.Queues,
		Concurrency:   c.Worker.Concurrency,
		ShutdownGrace: config.Duration(c.Worker.ShutdownGrace),
	}
}

// startWorkerJob registers this worker under worker.name, default
// worker@hostname. The hostname stays the real one: task instances record
// it and the webserver reaches the worker log server through it.
func (a *App) startWorkerJob(ctx context.Context) (store.Job, error) {
	host, _ := os.Hostname()
	name := cmp.Or(a.Config.Worker.Name, "worker@"+host)
	now := time.Now()
	j, err := a.Store.StartJob(ctx, store.Job{JobType: "worker", State: "running", Hostname: host, PID: os.Getpid(), Name: name, StartDate: now, LatestHeartbeat: now})
	if err != nil {
		return j, fmt.Errorf("register worker: %w", err)
	}
	return j, nil
}

// heartbeat keeps a job's heartbeat fresh until ctx ends.
func heartbeat(ctx context.Context, st store.Store, id int64, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			_ = st.HeartbeatJob(ctx, id, now)
		}
	}
}

// liveDAGs is a worker's view of the DAG folder, reloaded periodically;
// workers need task definitions but never write DAG metadata.
type liveDAGs struct {
	dir    string
	loader dag.Loader
	bag    atomic.Pointer[dag.Bag]
}

func (l *liveDAGs) reload(ctx context.Context) error {
	b, _, err := l.loader.Load(ctx, l.dir)
	if err != nil {
		return fmt.Errorf("load DAG folder: %w", err)
	}
	l.bag.Store(b)
	return nil
}

func (l *liveDAGs) get(id string) *dag.DAG {
	if b := l.bag.Load(); b != nil {
		return b.DAGs[id]
	}
	return nil
}

func (l *liveDAGs) watch(ctx context.Context, every time.Duration, log interface{ Warn(string, ...any) }) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.reload(ctx); err != nil && ctx.Err() == nil {
				log.Warn("reload DAG folder", "err", err)
			}
		}
	}
}
