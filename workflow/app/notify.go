package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/notify"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/sla"
	"github.com/airctl/airctl/workflow/store"
)

// notifyDrain is how long queued notifications may still be delivered
// when a role stops.
const notifyDrain = 10 * time.Second

// startNotify starts this role's notification dispatcher (a.notifier, read
// by schedulerConfig and workerPool); the returned stop drains it. dags is
// only called once events flow, so it may read a scheduler created after.
func (a *App) startNotify(ctx context.Context, dags func(string) *dag.DAG) func() {
	c := a.Config
	a.notifier = notify.New(ctx, notify.Options{
		Store: a.Store, DAGs: dags, SMTP: smtpConfig(c.SMTP), BaseURL: a.baseURL(),
		HTTPClient: &http.Client{Timeout: 30 * time.Second}, Log: a.Log,
	})
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyDrain)
		defer cancel()
		if err := a.notifier.Close(ctx); err != nil {
			a.Log.Warn("stopping notifications", "err", err)
		}
	}
}

func smtpConfig(c config.SMTP) notify.SMTPConfig {
	return notify.SMTPConfig{
		Host: c.Host, Port: c.Port, StartTLS: c.StartTLS != nil && *c.StartTLS,
		Username: c.Username, Password: c.Password, From: c.From,
	}
}

// baseURL is the UI address that notification links point to.
func (a *App) baseURL() string {
	if u := a.Config.Webserver.BaseURL; u != "" {
		return u
	}
	return fmt.Sprintf("http://localhost:%d", a.Config.Webserver.Port)
}

// notifyTask adapts the dispatcher to the worker's Runner.Notify.
func (a *App) notifyTask(_ context.Context, ti store.TaskInstance, run store.DagRun) {
	a.notifier.TaskFinished(ti, run)
}

// notifyRun adapts the dispatcher to the scheduler's RunFinished.
func (a *App) notifyRun(_ context.Context, run store.DagRun) {
	a.notifier.RunFinished(run)
}

// runSLA checks task SLAs until ctx ends (scheduler and standalone roles).
func (a *App) runSLA(ctx context.Context, s *scheduler.Scheduler) {
	c := &sla.Checker{
		Store: a.Store, DAG: s.DAG, Log: a.Log,
		Interval: config.Duration(a.Config.Scheduler.SLACheckInterval),
	}
	if a.notifier != nil {
		c.Notify = a.notifier
	}
	_ = c.Run(ctx) // logs its own failures and returns when ctx ends
}

// taskFinishedHook is the worker's Runner.Notify when notifications are on.
func (a *App) taskFinishedHook() func(context.Context, store.TaskInstance, store.DagRun) {
	if a.notifier == nil {
		return nil
	}
	return a.notifyTask
}
