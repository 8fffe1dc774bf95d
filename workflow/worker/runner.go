package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// DAGLookup returns the current definition of a DAG, or nil.
type DAGLookup func(dagID string) *dag.DAG

// Runner runs one try of a task instance and records its outcome.
type Runner struct {
	Store     store.Store
	DAGs      DAGLookup
	LogDir    string
	Hostname  string
	KillGrace time.Duration
	// SoftTimeLimit (SIGTERM) and HardTimeLimit (SIGKILL) bound every task
	// this runner starts, like Celery's worker time limits; zero: none.
	SoftTimeLimit time.Duration
	HardTimeLimit time.Duration
	Log           *slog.Logger
	// Metrics receives ti.start and ti.finish (default: discarded).
	Metrics metrics.Sink
	// Shipper uploads each try's log once it has ended; nil keeps logs
	// local only.
	Shipper logs.Shipper
	// Notify, when set, is told of every finished try (success,
	// up_for_retry, failed) with its run; it must not block (the
	// notify.Dispatcher queues and delivers in the background).
	Notify func(ctx context.Context, ti store.TaskInstance, run store.DagRun)
	// Conns resolves the conn_id of operator tasks (connections.Resolver);
	// nil fails such tasks with a message saying how to configure it.
	Conns operator.Conns
	now   func() time.Time
	runs  runCache
}

func (r *Runner) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// Run claims the try named by m (queued → running), runs it and stores the
// result. A message whose try is no longer queued (a duplicate delivery) is
// skipped and reported with ok=false. A redelivered message (its previous
// holder's lease expired: that worker died) takes over a try left running
// as a new try, so the dead worker's late result cannot count.
func (r *Runner) Run(ctx context.Context, m queue.Message, redelivered bool) (store.TaskInstance, bool, error) {
	ti, firstPoke, err := r.claim(ctx, m, redelivered)
	if errors.Is(err, store.ErrStateConflict) || errors.Is(err, store.ErrNotFound) {
		r.Log.Info("skipping stale task message", "dag", m.DagID, "run", m.RunID, "task", m.TaskID, "try", m.Try)
		return ti, false, nil
	}
	if err != nil {
		return ti, false, err
	}
	sink := metrics.OrNoop(r.Metrics)
	if firstPoke.IsZero() { // a sensor's later pokes continue its start
		sink.TaskStarted(ti.DagID, ti.TaskID)
	}
	run, err := r.runs.get(ctx, r.Store, m)
	if err != nil {
		return ti, false, err
	}
	// A sensor poking again continues the log of its earlier pokes.
	f, err := openLog(r.LogDir, m.TIKey, run.LogicalDate, ti.TryNumber, !firstPoke.IsZero())
	if err != nil {
		return ti, false, err
	}
	defer f.Close()
	masker := secrets.NewMasker()
	log := &lockedWriter{w: masker.Writer(f)}
	out := r.execute(ctx, ti, run, tryLog{w: log, file: f}, masker, firstPoke)
	try := ti.TryNumber
	ti, err = r.finish(context.WithoutCancel(ctx), m.TIKey, try, out)
	// scheduled: handed back; up_for_reschedule: between pokes. Neither has finished.
	if err == nil && ti.State != store.TIScheduled && ti.State != store.TIUpForReschedule {
		sink.TaskFinished(ti.DagID, ti.TaskID, string(ti.State))
		if r.Notify != nil {
			r.Notify(ctx, ti, run)
		}
	}
	fmt.Fprintf(log, "[%s] aird: task ended: %s → %s\n", r.clock().UTC().Format(time.RFC3339), describe(out), ti.State)
	if cerr := log.Close(); cerr != nil { // flushes what the masker held back
		r.Log.Warn("write task log", "path", f.Name(), "err", cerr)
	}
	r.ship(ctx, f, logs.RelPath(m.TIKey, run.LogicalDate, try))
	return ti, true, err
}

// claim also returns, for a sensor rescheduled between pokes, when it first
// poked: its try left StartDate set and EndDate zero (see finish), and the
// sensor's timeout counts from then.
func (r *Runner) claim(ctx context.Context, m queue.Message, redelivered bool) (store.TaskInstance, time.Time, error) {
	now := r.clock()
	ti, err := r.Store.StartTry(ctx, m.TIKey, store.TryStart{Try: m.Try, Hostname: r.Hostname, PID: os.Getpid(), At: now})
	if errors.Is(err, store.ErrStateConflict) && redelivered {
		ti, err = r.takeOver(ctx, m, now)
	}
	if err != nil {
		return ti, time.Time{}, err
	}
	var firstPoke time.Time
	if ti.StartDate.Before(now.Truncate(time.Millisecond)) {
		firstPoke = ti.StartDate // kept by StartTryFn: not this claim's time
	}
	return ti, firstPoke, nil
}

// takeOver starts a try left running by a worker whose lease expired (it
// died) as a new try: the crash was not the task's fault, so the lost try is
// not charged, and the dead worker's late result cannot count.
func (r *Runner) takeOver(ctx context.Context, m queue.Message, now time.Time) (store.TaskInstance, error) {
	return r.Store.UpdateTaskInstance(ctx, m.TIKey, func(ti *store.TaskInstance) error {
		if ti.State != store.TIRunning || ti.TryNumber != m.Try {
			return store.ErrStateConflict
		}
		ti.State, ti.TryNumber, ti.MaxTries = store.TIRunning, m.Try+1, ti.MaxTries+1
		ti.StartDate, ti.EndDate, ti.NextRetryAt = now, time.Time{}, time.Time{}
		ti.Hostname, ti.PID = r.Hostname, os.Getpid()
		return nil
	})
}

// tryLog is a try's log: w masks secrets (see secrets.Masker), file is the
// file beneath it.
type tryLog struct {
	w    io.Writer
	file *os.File
}

// execute renders and runs the task, writing everything to the log, and
// stores a successful try's output.
func (r *Runner) execute(ctx context.Context, ti store.TaskInstance, run store.DagRun, tl tryLog, masker *secrets.Masker, firstPoke time.Time) Outcome {
	log := tl.w
	d := r.DAGs(ti.DagID)
	var task *dag.Task
	if d != nil {
		task = d.Task(ti.TaskID)
	}
	if task == nil {
		return failNow(log, fmt.Errorf("task %s.%s is no longer defined in the DAG folder", ti.DagID, ti.TaskID))
	}
	rc, hidden, err := runContext(ctx, r.Store, d, task, run)
	if err != nil {
		return failNow(log, err)
	}
	for _, s := range hidden {
		masker.Add(s)
	}
	rendered, diags := task.Render(rc)
	if diags.HasErrors() {
		return failNow(log, fmt.Errorf("render task %s.%s: %w", d.ID, task.ID, diags))
	}
	var out Outcome
	if task.Op != nil {
		out = r.runOperator(ctx, d, task, ti, run, rendered, log, masker, firstPoke)
	} else {
		spec := r.spec(task, rendered, ti, run)
		fmt.Fprintf(log, "[%s] aird: try %d of %d on %s: %s\n", r.clock().UTC().Format(time.RFC3339), ti.TryNumber, ti.MaxTries+1, r.Hostname, spec.Command)
		// Nothing to mask: the process may write straight into the file.
		var raw *os.File
		if masker.Empty() {
			raw = tl.file
		}
		outFile := logs.LocalPath(r.LogDir, logs.RelPath(ti.TIKey, run.LogicalDate, ti.TryNumber)) + ".output"
		out = runCommand(ctx, spec, log, raw, task.OutputRead(), outFile)
	}
	if !out.OK() || !out.NextPoke.IsZero() {
		return out
	}
	if err := r.saveOutput(ctx, task, ti, out, log); err != nil {
		return failNow(log, err)
	}
	return out
}

func failNow(w io.Writer, err error) Outcome {
	fmt.Fprintf(w, "aird: %v\n", err)
	return Outcome{ExitCode: -1, Err: err}
}

// finish moves running → success / up_for_retry / failed, or hands the try
// back (scheduled, not charged) when the worker is shutting down.
func (r *Runner) finish(ctx context.Context, k store.TIKey, try int, o Outcome) (store.TaskInstance, error) {
	now := r.clock()
	return r.Store.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
		if ti.State != store.TIRunning || ti.TryNumber != try {
			return store.ErrStateConflict
		}
		ti.EndDate = now
		switch {
		case o.Cancelled:
			ti.State, ti.MaxTries = store.TIScheduled, ti.MaxTries+1
		case o.OK() && !o.NextPoke.IsZero():
			// A sensor between pokes uses no try; StartDate keeps its first
			// poke and EndDate stays zero, which claim reads back.
			ti.State, ti.NextRetryAt = store.TIUpForReschedule, o.NextPoke
			ti.TryNumber, ti.EndDate = ti.TryNumber-1, time.Time{}
		case o.OK():
			ti.State = store.TISuccess
		case ti.TryNumber <= ti.MaxTries:
			ti.State, ti.NextRetryAt = store.TIUpForRetry, now.Add(r.retryDelay(ti))
		default:
			ti.State = store.TIFailed
		}
		return nil
	})
}

func (r *Runner) retryDelay(ti *store.TaskInstance) time.Duration {
	d := r.DAGs(ti.DagID)
	if d == nil || d.Task(ti.TaskID) == nil {
		return dag.DefaultRetryDelay
	}
	return RetryDelay(d.Task(ti.TaskID), ti.TryNumber)
}

// RetryDelay is the wait before the try after `try`; exponential backoff
// doubles it per try, capped at a day.
func RetryDelay(t *dag.Task, try int) time.Duration {
	const maxDelay = 24 * time.Hour
	delay := t.RetryDelay
	if !t.RetryExponentialBackoff {
		return delay
	}
	for i := 1; i < try && delay < maxDelay; i++ {
		delay *= 2
	}
	return min(delay, maxDelay)
}

func describe(o Outcome) string {
	switch {
	case !o.NextPoke.IsZero():
		return "sensor condition not met, next poke at " + o.NextPoke.UTC().Format(time.RFC3339)
	case o.Cancelled:
		return "stopped by shutdown, handed back"
	case o.TimedOut:
		return "execution_timeout exceeded, killed"
	case o.Err != nil:
		return "error: " + o.Err.Error()
	default:
		return fmt.Sprintf("exit status %d", o.ExitCode)
	}
}

// ship uploads the finished log (the end line above is its last line).
// The outcome is already stored, so a failed upload delays only the
// upload (the shipper keeps it owed), never the task. A shutdown past its
// grace cuts the upload short rather than wait on GCS: the shipper's
// spool finishes it at the next start.
func (r *Runner) ship(ctx context.Context, f *os.File, rel string) {
	if r.Shipper == nil {
		return
	}
	if err := f.Close(); err != nil { // the deferred Close then just fails quietly
		r.Log.Warn("close task log", "path", f.Name(), "err", err)
	}
	if err := r.Shipper.Ship(ctx, f.Name(), rel); err != nil {
		r.Log.Warn("task log not uploaded yet; kept locally and retried later", "path", f.Name(), "err", err)
	}
}
