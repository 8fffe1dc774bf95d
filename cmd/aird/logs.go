package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

func taskLogsCmd(g *globals) *cobra.Command {
	var try int
	var follow bool
	c := &cobra.Command{
		Use:   "logs DAG_ID TASK_ID RUN_ID",
		Short: "Print a task try's log; with -f, follow it live until the try ends",
		Long: "Prints the log of one try (default: the latest) from logging.base_log_folder, or from " +
			"logging.remote_base_log_folder once it was shipped and deleted locally. With -f it waits for a " +
			"try that has not started and streams a running one until its end line.",
		Args: cobra.ExactArgs(3),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			k := store.TIKey{DagID: args[0], TaskID: args[1], RunID: args[2]}
			return printTaskLog(cmd.Context(), a, k, try, follow, cmd.OutOrStdout())
		}),
	}
	c.Flags().IntVar(&try, "try", 0, "try number (default: the latest)")
	c.Flags().BoolVarP(&follow, "follow", "f", false, "stream the log as it grows until the try ends")
	return c
}

func printTaskLog(ctx context.Context, a *app.App, k store.TIKey, try int, follow bool, out io.Writer) error {
	run, err := a.Store.GetDagRun(ctx, k.DagID, k.RunID)
	if err != nil {
		return fmt.Errorf("dag run %s/%s: %w", k.DagID, k.RunID, err)
	}
	ti, err := a.Store.GetTaskInstance(ctx, k)
	if err != nil {
		return fmt.Errorf("task instance %s/%s/%s: %w", k.DagID, k.RunID, k.TaskID, err)
	}
	latest := max(ti.TryNumber, 1) // try 1 before it starts: -f waits for it
	if try == 0 {
		try = latest
	}
	if try < 1 || try > latest {
		return fmt.Errorf("task %s has started %d tries; try %d does not exist", k.TaskID, ti.TryNumber, try)
	}
	rel := logs.RelPath(k, run.LogicalDate, try)
	local := logs.LocalPath(a.Config.Logging.BaseLogFolder, rel)
	_, statErr := os.Stat(local)
	// Only the latest try can still be running or yet to start.
	live := try == latest && (ti.TryNumber == 0 || ti.State == store.TIRunning)
	if follow && (statErr == nil || live) {
		err := logs.Follow(ctx, local, out)
		if errors.Is(err, context.Canceled) {
			return nil // Ctrl-C ends a tail; it is not a failure
		}
		return err
	}
	if statErr == nil {
		return copyFile(local, out)
	}
	return printShipped(ctx, a, rel, local, out)
}

func copyFile(path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("task log: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(out, f); err != nil {
		return fmt.Errorf("task log: %w", err)
	}
	return nil
}

// printShipped prints the remote copy of a log no longer on this disk.
func printShipped(ctx context.Context, a *app.App, rel, local string, out io.Writer) error {
	sh, closeFn, err := a.RemoteLogs(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	rc, err := sh.Open(ctx, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no log at %s nor in remote_base_log_folder (the try has not started, or ran on another host): %w", local, err)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(out, rc); err != nil {
		return fmt.Errorf("shipped task log: %w", err)
	}
	return nil
}
