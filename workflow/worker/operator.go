package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// runCommand runs a command task. Its output is what it wrote to the file
// named by $AIRD_OUTPUT_FILE (outFile, next to the try's log: a temp folder
// per try cost a tenth of a short task's time), else the last non-empty
// line of its stdout. Try numbers never repeat, so no earlier attempt can
// have left a file there: the task's own is read, then removed.
//
// The last stdout line is taken only when keepLast (a task reads the
// output): it needs stdout on a pipe of its own. Otherwise stdout and
// stderr share one pipe to log, in the order written, or with raw set the
// process writes into that file directly, with no pipe at all.
func runCommand(ctx context.Context, spec Spec, log io.Writer, raw *os.File, keepLast bool, outFile string) Outcome {
	spec.Env = append(spec.Env, "AIRD_OUTPUT_FILE="+outFile)
	var last operator.LastLine
	var o Outcome
	switch {
	case keepLast:
		spec.Stdout = io.MultiWriter(log, &last)
		o = Exec(ctx, spec, log)
	case raw != nil:
		o = Exec(ctx, spec, raw)
	default:
		o = Exec(ctx, spec, log)
	}
	out, explicit, err := commandOutput(outFile, &last)
	if o.OK() {
		o.Output, o.explicit, o.outputErr = out, explicit, err
	}
	return o
}

// commandOutput reads and removes the output file if the task wrote one
// (explicit), else takes the last stdout line.
func commandOutput(outFile string, last *operator.LastLine) (out string, explicit bool, err error) {
	f, err := os.Open(outFile)
	if errors.Is(err, os.ErrNotExist) {
		out, err = last.Line()
		return out, false, err
	}
	if err != nil {
		return "", true, fmt.Errorf("read $AIRD_OUTPUT_FILE: %w", err)
	}
	defer os.Remove(outFile)
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > store.MaxTaskOutputSize {
		return "", true, operator.CheckOutputSize(fi.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, store.MaxTaskOutputSize+1))
	if err != nil {
		return "", true, fmt.Errorf("read $AIRD_OUTPUT_FILE: %w", err)
	}
	return string(data), true, operator.CheckOutputSize(int64(len(data)))
}

// runOperator runs an operator or sensor task under the task's time limit.
func (r *Runner) runOperator(ctx context.Context, d *dag.DAG, t *dag.Task, ti store.TaskInstance, run store.DagRun,
	rendered dag.Rendered, log io.Writer, masker *secrets.Masker, firstPoke time.Time) Outcome {
	op, err := operator.New(t, rendered)
	if err != nil {
		return failNow(log, err)
	}
	fmt.Fprintf(log, "[%s] aird: try %d of %d on %s: %s task\n", r.clock().UTC().Format(time.RFC3339), ti.TryNumber, ti.MaxTries+1, r.Hostname, t.Kind())
	opCtx := ctx
	if timeout, _ := r.limits(t.ExecutionTimeout); timeout > 0 {
		var cancel context.CancelFunc
		opCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	env := &operator.Env{Log: log, Store: r.Store, Run: run, BaseDir: filepath.Dir(d.File), FirstPoke: firstPoke, Now: r.clock}
	if r.Conns != nil {
		env.Conns = maskingConns{inner: r.Conns, masker: masker}
	}
	res, err := op.Run(opCtx, env)
	switch {
	case ctx.Err() != nil:
		return Outcome{ExitCode: -1, Cancelled: true}
	case opCtx.Err() != nil:
		return Outcome{ExitCode: -1, TimedOut: true}
	case err != nil:
		return failNow(log, err)
	}
	return Outcome{Output: res.Output, NextPoke: res.NextPoke, explicit: true}
}

// saveOutput stores a successful try's output when some task of the DAG
// reads it, or when it is explicit and not empty. The last stdout line of
// a command no one reads is dropped: storing it would add a metadata DB
// write to nearly every task, and a long last line is then no error.
func (r *Runner) saveOutput(ctx context.Context, t *dag.Task, ti store.TaskInstance, o Outcome, log io.Writer) error {
	if !t.OutputRead() && (!o.explicit || o.Output == "" && o.outputErr == nil) {
		return nil
	}
	if o.outputErr != nil {
		return o.outputErr
	}
	out := o.Output
	if err := operator.CheckOutputSize(int64(len(out))); err != nil {
		return err
	}
	if err := r.Store.SetTaskOutput(ctx, ti.TIKey, out); err != nil {
		return fmt.Errorf("store the task output: %w", err)
	}
	fmt.Fprintf(log, "[%s] aird: output: %d bytes\n", r.clock().UTC().Format(time.RFC3339), len(out))
	return nil
}

// maskingConns adds the secrets of every connection an operator resolves
// to the task log's masker before the operator can print them.
type maskingConns struct {
	inner  operator.Conns
	masker *secrets.Masker
}

func (m maskingConns) Get(ctx context.Context, id string) (connections.Connection, error) {
	c, err := m.inner.Get(ctx, id)
	if err == nil {
		for _, s := range c.Secrets() {
			m.masker.Add(s)
		}
	}
	return c, err
}

// lockedWriter serialises writes: a command's stdout and stderr are copied
// by two goroutines into the same log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.WriteCloser
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Close()
}

// openLog creates the try's log, or appends to it when a rescheduled
// sensor pokes again under the same try number.
func openLog(base string, k store.TIKey, logicalDate time.Time, try int, appendTo bool) (*os.File, error) {
	if !appendTo {
		return logs.Create(base, k, logicalDate, try)
	}
	p := logs.LocalPath(base, logs.RelPath(k, logicalDate, try))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory for %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open task log: %w", err)
	}
	return f, nil
}
