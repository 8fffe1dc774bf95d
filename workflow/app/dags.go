package app

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/worker"
)

// ListDAGs prints the DAGs of the folder with their paused flag, then any
// import errors with file:line.
func (a *App) ListDAGs(ctx context.Context, w io.Writer) error {
	b, err := a.LoadDAGs(ctx)
	if err != nil {
		return err
	}
	known, err := a.Store.ListDAGs(ctx)
	if err != nil {
		return err
	}
	paused := map[string]bool{}
	for _, d := range known {
		paused[d.DagID] = d.IsPaused
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAG_ID\tSCHEDULE\tPAUSED\tTASKS\tFILE")
	for _, d := range sortedDAGs(b) {
		p, seen := paused[d.ID]
		pausedText := fmt.Sprint(p)
		if !seen {
			pausedText = "(new)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", d.ID, orDash(d.ScheduleExpr), pausedText, len(d.Tasks), d.File)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(b.Errors) > 0 {
		fmt.Fprintf(w, "\n%d DAG file(s) failed to load:\n", len(b.Errors))
		b.FormatErrors(w, false)
	}
	a.reportUnknownConns(ctx, w, b)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedDAGs(b *dag.Bag) []*dag.DAG {
	out := make([]*dag.DAG, 0, len(b.DAGs))
	for _, d := range b.DAGs {
		out = append(out, d)
	}
	slices.SortFunc(out, func(x, y *dag.DAG) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// SetPaused pauses or unpauses a DAG, recording it first if it is new.
func (a *App) SetPaused(ctx context.Context, id string, paused bool) error {
	d, err := a.DAG(ctx, id)
	if err != nil {
		return err
	}
	if err := a.Store.UpsertDAG(ctx, store.DAG{DagID: d.ID, FileLoc: d.File, Schedule: d.ScheduleExpr, Timezone: d.Location.String(), Tags: d.Tags, IsActive: true, IsPaused: paused, LastParsedAt: time.Now()}); err != nil {
		return err
	}
	return a.Store.SetDAGPaused(ctx, id, paused)
}

// Trigger creates a manual run that the running scheduler picks up.
func (a *App) Trigger(ctx context.Context, id string, logicalDate time.Time, conf map[string]any) (store.DagRun, error) {
	d, err := a.DAG(ctx, id)
	if err != nil {
		return store.DagRun{}, err
	}
	return scheduler.Trigger(ctx, a.Store, d, logicalDate, conf)
}

// Backfill creates runs for [from, to] and runs them here to completion.
func (a *App) Backfill(ctx context.Context, id string, from, to time.Time, w io.Writer) error {
	d, err := a.DAG(ctx, id)
	if err != nil {
		return err
	}
	runs, err := scheduler.Backfill(ctx, a.Store, d, from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "backfill %s: %d new run(s) between %s and %s\n", id, len(runs), from.Format(time.DateOnly), to.Format(time.DateOnly))
	if len(runs) == 0 {
		return nil
	}
	if err := a.RunToCompletion(ctx, runs); err != nil {
		return err
	}
	return a.printRuns(ctx, w, runs)
}

// TestDAG runs one whole DAG run for logicalDate in this process, ignoring
// the paused flag, and prints each task's outcome.
func (a *App) TestDAG(ctx context.Context, id string, logicalDate time.Time, w io.Writer) error {
	d, err := a.DAG(ctx, id)
	if err != nil {
		return err
	}
	run, tis := scheduler.NewRun(d, store.RunManual, dag.Interval{Start: logicalDate, End: logicalDate}, nil, time.Now())
	run.RunID = "test__" + run.RunID
	created, err := a.Store.CreateDagRun(ctx, run, tis)
	if err != nil {
		return err
	}
	if err := a.RunToCompletion(ctx, []store.DagRun{created}); err != nil {
		return err
	}
	return a.printRuns(ctx, w, []store.DagRun{created})
}

func (a *App) printRuns(ctx context.Context, w io.Writer, runs []store.DagRun) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN_ID\tTASK_ID\tSTATE\tTRY\tDURATION")
	for _, r := range runs {
		tis, err := a.Store.ListTaskInstances(ctx, store.TIFilter{DagID: r.DagID, RunID: r.RunID})
		if err != nil {
			return err
		}
		for _, ti := range tis {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.RunID, ti.TaskID, ti.State, ti.TryNumber, ti.Duration().Round(time.Millisecond))
		}
		final, err := a.Store.GetDagRun(ctx, r.DagID, r.RunID)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t(run)\t%s\t\t\n", r.RunID, final.State)
	}
	return tw.Flush()
}

// TestTask runs one task for logicalDate with its output on w, without
// checking dependencies or recording state (like `airflow tasks test`).
// It returns the task's exit code.
func (a *App) TestTask(ctx context.Context, dagID, taskID string, logicalDate time.Time, w io.Writer) (int, error) {
	d, err := a.DAG(ctx, dagID)
	if err != nil {
		return 0, err
	}
	t := d.Task(taskID)
	if t == nil {
		return 0, fmt.Errorf("task %q not found in dag %s", taskID, dagID)
	}
	run := store.DagRun{DagID: dagID, RunID: "test__" + logicalDate.UTC().Format(time.RFC3339), LogicalDate: logicalDate, DataIntervalStart: logicalDate, DataIntervalEnd: logicalDate}
	rc, err := worker.RunContext(ctx, a.Store, d, t, run)
	if err != nil {
		return 0, err
	}
	rendered, diags := t.Render(rc)
	if diags.HasErrors() {
		return 0, fmt.Errorf("render %s.%s: %w", dagID, taskID, diags)
	}
	if t.Op != nil {
		return a.testOperator(ctx, d, t, run, rendered, w), nil
	}
	fmt.Fprintf(w, "+ %s\n", rendered.Command)
	spec := worker.Spec{
		Command: rendered.Command, Dir: rendered.WorkingDir, Timeout: t.ExecutionTimeout, KillGrace: 10 * time.Second,
		Env: worker.Environ(rendered.Env, store.TIKey{DagID: dagID, RunID: run.RunID, TaskID: taskID}, run, 1),
	}
	out := worker.Exec(ctx, spec, w)
	return out.ExitCode, out.Err
}

// ParseDate accepts YYYY-MM-DD (midnight UTC) or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: use YYYY-MM-DD or RFC 3339 (2024-01-02T03:04:05Z)", s)
	}
	return t, nil
}

// ListRuns prints runs, newest first, optionally of one DAG and in some states.
func (a *App) ListRuns(ctx context.Context, w io.Writer, dagID string, states []store.RunState, header bool) error {
	runs, _, err := a.Store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, States: states, Desc: true})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if header {
		fmt.Fprintln(tw, "DAG_ID\tRUN_ID\tSTATE\tLOGICAL_DATE\tSTARTED\tENDED")
	}
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.DagID, r.RunID, r.State, r.LogicalDate.Format(time.RFC3339), stamp(r.StartDate), stamp(r.EndDate))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}
