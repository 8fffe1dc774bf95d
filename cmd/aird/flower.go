package main

import (
	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
)

func flowerCmd(g *globals) *cobra.Command {
	var port int
	c := &cobra.Command{
		Use:   "flower",
		Short: "Serve the monitor: workers, queue depths and tasks (HTML and JSON), and /metrics",
		Long: "Serves what Celery Flower showed on flower.port (default 5555) until SIGINT/SIGTERM: workers with their heartbeats and " +
			"active/processed/failed counts, Redis broker queue depths, task instances with state and runtime, as a page and as JSON " +
			"(/api/workers, /api/queues, /api/tasks?state=&limit=). Needs an aird user (HTTP Basic); /metrics is open for Prometheus.",
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			if cmd.Flags().Changed("port") {
				a.Config.Flower.Port = port
			}
			return a.Flower(cmd.Context())
		}),
	}
	c.Flags().IntVarP(&port, "port", "p", 0, "flower port (default flower.port from config, 5555; 0 picks a free port)")
	return c
}
