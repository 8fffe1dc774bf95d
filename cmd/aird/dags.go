package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/store"
)

func dagsCmd(g *globals) *cobra.Command {
	dags := &cobra.Command{Use: "dags", Short: "List, trigger, pause, test and backfill DAGs"}
	dags.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the DAGs in the DAG folder and any import errors",
			Args:  cobra.NoArgs,
			RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
				return a.ListDAGs(cmd.Context(), cmd.OutOrStdout())
			}),
		},
		listRunsCmd(g), triggerCmd(g), pauseCmd(g, "pause", true), pauseCmd(g, "unpause", false), testDAGCmd(g), backfillCmd(g),
	)
	return dags
}

func listRunsCmd(g *globals) *cobra.Command {
	var dagID, states string
	var noHeader bool
	c := &cobra.Command{
		Use:   "list-runs",
		Short: "List DAG runs, newest first",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			var want []store.RunState
			for _, s := range strings.Split(states, ",") {
				if s = strings.TrimSpace(s); s != "" {
					want = append(want, store.RunState(s))
				}
			}
			return a.ListRuns(cmd.Context(), cmd.OutOrStdout(), dagID, want, !noHeader)
		}),
	}
	c.Flags().StringVarP(&dagID, "dag-id", "d", "", "only runs of this DAG")
	c.Flags().StringVar(&states, "state", "", "only runs in these states, comma-separated (queued,running,success,failed)")
	c.Flags().BoolVar(&noHeader, "no-header", false, "omit the header line (for scripts)")
	return c
}

func triggerCmd(g *globals) *cobra.Command {
	var conf, date string
	c := &cobra.Command{
		Use:   "trigger DAG_ID",
		Short: "Create a manual run; a running scheduler picks it up",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			parsed, err := parseConf(conf)
			if err != nil {
				return err
			}
			var logical time.Time
			if date != "" {
				if logical, err = app.ParseDate(date); err != nil {
					return err
				}
			}
			run, err := a.Trigger(cmd.Context(), args[0], logical, parsed)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created run %s of %s (state %s)\n", run.RunID, run.DagID, run.State)
			if d, err := a.Store.GetDAG(cmd.Context(), run.DagID); err == nil && d.IsPaused {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s is paused; the run starts once you run `aird dags unpause %s`\n", run.DagID, run.DagID)
			}
			return nil
		}),
	}
	c.Flags().StringVar(&conf, "conf", "", `run conf as a JSON object, overriding params (e.g. '{"table":"x"}')`)
	c.Flags().StringVar(&date, "logical-date", "", "logical date (default now)")
	return c
}

func pauseCmd(g *globals, verb string, paused bool) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " DAG_ID",
		Short: fmt.Sprintf("%s a DAG: a paused DAG gets no new runs and its runs do not progress", verb),
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			if err := a.SetPaused(cmd.Context(), args[0], paused); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "dag %s: paused=%v\n", args[0], paused)
			return nil
		}),
	}
}

func testDAGCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test DAG_ID [DATE]",
		Short: "Run one DAG run for DATE (default today) in this process and print the task states",
		Args:  cobra.RangeArgs(1, 2),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			date, err := dateOrToday(args, 1)
			if err != nil {
				return err
			}
			return a.TestDAG(cmd.Context(), args[0], date, cmd.OutOrStdout())
		}),
	}
}

func backfillCmd(g *globals) *cobra.Command {
	var start, end string
	c := &cobra.Command{
		Use:   "backfill DAG_ID --start DATE --end DATE",
		Short: "Create runs for every schedule interval starting in [start, end] and run them here",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			from, err := app.ParseDate(start)
			if err != nil {
				return err
			}
			to, err := app.ParseDate(end)
			if err != nil {
				return err
			}
			return a.Backfill(cmd.Context(), args[0], from, to, cmd.OutOrStdout())
		}),
	}
	c.Flags().StringVar(&start, "start", "", "first logical date (YYYY-MM-DD or RFC 3339)")
	c.Flags().StringVar(&end, "end", "", "last logical date, inclusive")
	_ = c.MarkFlagRequired("start")
	_ = c.MarkFlagRequired("end")
	return c
}
