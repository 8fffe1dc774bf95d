package app

import (
	"context"
	"errors"
	"sync"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
)

// Standalone expects a migrated store. It runs the scheduler, the local
// executor and the webserver (webserver.port) in this process
// until ctx ends, then drains: no new tasks, running ones get the shutdown
// grace to finish, the rest are handed back for the next start.
func (a *App) Standalone(ctx context.Context) error {
	stop, err := a.startMetrics(ctx)
	if err != nil {
		return err
	}
	defer stop()
	q := queue.NewLocal()
	var s *scheduler.Scheduler
	defer a.startNotify(ctx, func(id string) *dag.DAG { return s.DAG(id) })()
	s = scheduler.New(a.schedulerConfig(), a.Store, q, a.Log)
	folder := scheduler.NewDAGFolder(a.Config.Core.DagsFolder, *a.Config.Core.DagsArePausedAtCreation)
	if _, err := folder.Load(ctx, s); err != nil {
		return err
	}
	ws, err := a.listenWeb(ctx)
	if err != nil {
		return err
	}
	a.Log.Info("aird standalone started", "dags_folder", folder.Dir, "database", a.Config.Database.URL, "logs", a.Config.Logging.BaseLogFolder)
	return a.runWithPool(ctx, s, q, func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := ws.serve(ctx); err != nil {
				a.Log.Error("webserver stopped", "err", err)
			}
		})
		wg.Go(func() { a.runSLA(ctx, s) })
		folder.Watch(ctx, s, config.Duration(a.Config.Scheduler.ParseInterval))
		wg.Wait()
	})
}

// RunToCompletion runs only the given runs with a private scheduler and
// local executor until they finish (dags test, backfill).
func (a *App) RunToCompletion(ctx context.Context, runs []store.DagRun) error {
	q := queue.NewLocal()
	s := scheduler.New(a.schedulerConfig(), a.Store, q, a.Log)
	folder := scheduler.NewDAGFolder(a.Config.Core.DagsFolder, *a.Config.Core.DagsArePausedAtCreation)
	if _, err := folder.Load(ctx, s); err != nil {
		return err
	}
	s.Only(runs)
	return a.runWithPool(ctx, s, q, nil)
}

// runWithPool runs scheduler s and a local pool; when the scheduler returns
// (ctx ended or its runs are done) the pool drains and the queue closes.
func (a *App) runWithPool(ctx context.Context, s *scheduler.Scheduler, q *queue.Local, extra func(context.Context)) error {
	poolCtx, stopPool := context.WithCancel(ctx)
	defer stopPool()
	pool := a.localPool(s, q)
	var wg sync.WaitGroup
	var poolErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		poolErr = pool.Run(poolCtx)
	}()
	if extra != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			extra(poolCtx)
		}()
	}
	schedErr := s.Run(ctx)
	stopPool()
	wg.Wait()
	// Tasks the draining pool handed back were queued by this scheduler.
	releaseErr := s.ReleaseQueued(context.WithoutCancel(ctx))
	_ = q.Close()
	return errors.Join(schedErr, poolErr, releaseErr)
}
