package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/internal/version"
	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/config"
)

// exitCode carries a task's exit status out of `tasks test`.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExitCode(err error, target *exitCode) bool { return errors.As(err, target) }

type globals struct {
	configPath string
	logLevel   string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "aird",
		Short:         "aird runs workflows: scheduler, workers and UI as roles of one binary",
		Long:          "aird runs DAGs defined in HCL files. Config: $AIRD_HOME/aird.hcl (default ~/.aird), every key overridable as AIRD_<SECTION>_<KEY>.",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "config file (default $AIRD_HOME/aird.hcl)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "debug, info, warn or error (default from config: info)")
	root.AddCommand(standaloneCmd(g), schedulerCmd(g), workerCmd(g), webserverCmd(g), flowerCmd(g), usersCmd(g), dbCmd(g), dagsCmd(g), tasksCmd(g), connectionsCmd(g), variablesCmd(g))
	return root
}

// open loads config and the store for a command.
func (g *globals) open(cmd *cobra.Command) (*app.App, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, err
	}
	if g.logLevel != "" {
		cfg.Logging.Level = g.logLevel
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Logging.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.Logging.Level, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return app.Open(cmd.Context(), cfg, log)
}

// withApp runs fn with an opened, migrated app and closes it after.
// Migrating every time is cheap and idempotent, and spares a SQLite user
// a separate `aird db migrate`.
func (g *globals) withApp(fn func(cmd *cobra.Command, a *app.App, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := g.open(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		if err := a.Store.Migrate(cmd.Context()); err != nil {
			return err
		}
		return fn(cmd, a, args)
	}
}

func standaloneCmd(g *globals) *cobra.Command {
	var port int
	c := &cobra.Command{
		Use:   "standalone",
		Short: "Run scheduler, local executor and webserver in one process on the configured store",
		Long:  "Migrates the database, loads the DAG folder and runs scheduler, local executor and webserver until SIGINT/SIGTERM. On shutdown running tasks get worker.shutdown_grace to finish; the rest are handed back and run again on the next start.",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			applyPort(cmd, a, port)
			return a.Standalone(cmd.Context())
		}),
	}
	addPortFlag(c, &port)
	return c
}

func dbCmd(g *globals) *cobra.Command {
	db := &cobra.Command{Use: "db", Short: "Manage the metadata database"}
	db.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations (idempotent)",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "database is up to date:", a.Config.Database.URL)
			return nil
		}),
	})
	return db
}

func tasksCmd(g *globals) *cobra.Command {
	tasks := &cobra.Command{Use: "tasks", Short: "Run and inspect single tasks"}
	tasks.AddCommand(&cobra.Command{
		Use:   "test DAG_ID TASK_ID DATE",
		Short: "Run one task for a logical date, printing its output; records no state",
		Args:  cobra.ExactArgs(3),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			date, err := app.ParseDate(args[2])
			if err != nil {
				return err
			}
			code, err := a.TestTask(cmd.Context(), args[0], args[1], date, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if code != 0 {
				return exitCode(code)
			}
			return nil
		}),
	})
	tasks.AddCommand(taskLogsCmd(g))
	return tasks
}

func parseConf(raw string) (map[string]any, error) {
	if raw == "" {
		return nil, nil
	}
	var conf map[string]any
	if err := json.Unmarshal([]byte(raw), &conf); err != nil {
		return nil, fmt.Errorf("--conf must be a JSON object: %w", err)
	}
	return conf, nil
}

func dateOrToday(args []string, i int) (time.Time, error) {
	if len(args) > i {
		return app.ParseDate(args[i])
	}
	return time.Now().UTC().Truncate(24 * time.Hour), nil
}
