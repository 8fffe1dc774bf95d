package main

import (
	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
)

func webserverCmd(g *globals) *cobra.Command {
	var port int
	c := &cobra.Command{
		Use:   "webserver",
		Short: "Serve the REST API and UI on the configured store",
		Long: "Serves the Airflow-compatible REST API (/api/v1) and /health on webserver.port (default 8080) until SIGINT/SIGTERM. " +
			"Every route but /health and /login needs a user: create one with `aird users create`. " +
			"With webserver.workers > 1 (AIRD_WEBSERVER_WORKERS) this process holds the port and runs that many worker processes " +
			"serving it, replacing any that dies; give them webserver.secret_key (AIRD_WEBSERVER_SECRET_KEY) so sessions survive restarts.",
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			applyPort(cmd, a, port)
			return a.Webserver(cmd.Context())
		}),
	}
	addPortFlag(c, &port)
	return c
}

// addPortFlag is the --port of webserver and standalone; 0 picks a free
// port (logged), which tests use.
func addPortFlag(c *cobra.Command, port *int) {
	c.Flags().IntVarP(port, "port", "p", 0, "webserver port (default webserver.port from config, 8080; 0 picks a free port)")
}

// applyPort overrides the configured port only when --port was given.
func applyPort(cmd *cobra.Command, a *app.App, port int) {
	if cmd.Flags().Changed("port") {
		a.Config.Webserver.Port = port
	}
}
