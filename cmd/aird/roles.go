package main

import (
	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
)

func schedulerCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler role: tasks go to the Redis broker for `aird worker`",
		Long:  "Creates runs and queues ready tasks on the Redis broker (redis.address). Several schedulers may share one Postgres database. Stops on SIGINT/SIGTERM.",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			return a.Scheduler(cmd.Context())
		}),
	}
}

func workerCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the worker role: execute tasks from the Redis broker",
		Long:  "Runs up to worker.concurrency tasks from worker.queues, each acknowledged only after its result is stored. On SIGTERM it takes no new tasks; running ones get worker.shutdown_grace to finish and are then handed back.",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			return a.Worker(cmd.Context())
		}),
	}
}
