package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// Options configure a Dispatcher; zero fields take defaults.
type Options struct {
	Store store.Store // variables for var.* and the run's failed tasks
	// DAGs returns the current definition of a DAG, or nil.
	DAGs func(dagID string) *dag.DAG
	SMTP SMTPConfig
	// BaseURL is the webserver's external URL, for log links.
	BaseURL    string
	HTTPClient *http.Client
	Retry      Backoff
	// Workers deliver in parallel (default 2); QueueSize events may wait
	// (default 256); beyond that new events are dropped and logged, so a
	// dead receiver never holds up a task.
	Workers   int
	QueueSize int
	Log       *slog.Logger
}

// Dispatcher renders and delivers notifications in the background.
type Dispatcher struct {
	o       Options
	senders map[string]Sender
	jobs    chan func(context.Context)
	ctx     context.Context // cancelled by Close after its grace
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards closed and sends on jobs
	closed  bool
}

// New starts a dispatcher's workers. Deliveries outlive ctx's
// cancellation (a shutdown should still send the last failure) until
// Close ends them.
func New(ctx context.Context, o Options) *Dispatcher {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	httpSender := HTTPSender{Client: o.HTTPClient}
	d := &Dispatcher{
		o:       o,
		senders: map[string]Sender{dag.NotifyEmail: EmailSender{SMTP: o.SMTP}, dag.NotifySlack: httpSender, dag.NotifyWebhook: httpSender},
		jobs:    make(chan func(context.Context), o.QueueSize),
	}
	d.ctx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for range o.Workers {
		d.wg.Go(func() {
			for job := range d.jobs {
				job(d.ctx)
			}
		})
	}
	return d
}

// Close stops taking events and waits for the queued ones to be delivered
// until ctx ends; then in-flight retries are abandoned (and logged).
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.jobs)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return fmt.Errorf("notifications still being delivered at shutdown were abandoned: %w", ctx.Err())
	}
}

// enqueue never blocks: a full queue drops the event with a warning.
func (d *Dispatcher) enqueue(what string, job func(context.Context)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.o.Log.Warn("notification dropped: shutting down", "event", what)
		return
	}
	select {
	case d.jobs <- job:
	default:
		d.o.Log.Warn("notification dropped: delivery queue full (a receiver is slow or down)", "event", what)
	}
}

// TaskFinished notifies the outcome of a try: on_success, on_retry or
// on_failure, by the task's state. Other states notify nothing.
func (d *Dispatcher) TaskFinished(ti store.TaskInstance, run store.DagRun) {
	kind, ok := map[store.TIState]dag.NotifyKind{
		store.TISuccess: dag.OnSuccess, store.TIUpForRetry: dag.OnRetry, store.TIFailed: dag.OnFailure,
	}[ti.State]
	dg := d.o.DAGs(ti.DagID)
	if !ok || dg == nil || dg.Task(ti.TaskID) == nil {
		return
	}
	t := dg.Task(ti.TaskID)
	ns := dg.TaskNotifiers(t, kind)
	if len(ns) == 0 {
		return
	}
	ev := Event{
		Kind: kind, DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, Try: ti.TryNumber,
		State: string(ti.State), LogicalDate: run.LogicalDate, LogURL: d.taskURL(ti.TIKey, ti.TryNumber),
	}
	d.enqueue(string(kind), func(ctx context.Context) { d.deliverAll(ctx, dg, run, ev, ns) })
}

// RunFinished notifies the DAG's on_success or on_failure for a run that
// ended.
func (d *Dispatcher) RunFinished(run store.DagRun) {
	kind := map[store.RunState]dag.NotifyKind{store.RunSuccess: dag.OnSuccess, store.RunFailed: dag.OnFailure}[run.State]
	dg := d.o.DAGs(run.DagID)
	if kind == "" || dg == nil {
		return
	}
	ns := dg.RunNotifiers(kind)
	if len(ns) == 0 {
		return
	}
	ev := Event{
		Kind: kind, DagID: run.DagID, RunID: run.RunID, State: string(run.State),
		LogicalDate: run.LogicalDate, LogURL: d.url("dags", run.DagID, "runs", run.RunID),
	}
	d.enqueue(string(kind), func(ctx context.Context) {
		if kind == dag.OnFailure {
			ev.FailedTasks = d.failedTasks(ctx, run)
		}
		d.deliverAll(ctx, dg, run, ev, ns)
	})
}

// SLAMissed notifies the sla_miss notifiers of a recorded miss; done is
// called after delivery with whether every notifier accepted it (true
// when there is none), so the caller can mark the miss notified.
func (d *Dispatcher) SLAMissed(m store.SLAMiss, run store.DagRun, done func(delivered bool)) {
	dg := d.o.DAGs(m.DagID)
	var ns []dag.Notifier
	if dg != nil && dg.Task(m.TaskID) != nil {
		ns = dg.TaskNotifiers(dg.Task(m.TaskID), dag.SLAMiss)
	}
	if len(ns) == 0 {
		done(true)
		return
	}
	ev := Event{
		Kind: dag.SLAMiss, DagID: m.DagID, TaskID: m.TaskID, RunID: m.RunID, State: "sla_miss",
		LogicalDate: m.LogicalDate, Deadline: m.Deadline, LogURL: d.url("dags", m.DagID, "runs", m.RunID, "tasks", m.TaskID),
	}
	d.enqueue(string(dag.SLAMiss), func(ctx context.Context) { done(d.deliverAll(ctx, dg, run, ev, ns)) })
}

func (d *Dispatcher) failedTasks(ctx context.Context, run store.DagRun) []string {
	tis, err := d.o.Store.ListTaskInstances(ctx, store.TIFilter{DagID: run.DagID, RunID: run.RunID, States: []store.TIState{store.TIFailed}})
	if err != nil {
		d.o.Log.Warn("notification: list failed tasks", "dag", run.DagID, "run", run.RunID, "err", err)
	}
	var ids []string
	for _, ti := range tis {
		ids = append(ids, ti.TaskID)
	}
	return ids
}

// deliverAll renders and sends every notifier of one event, each with
// retries; it reports whether all were delivered. Failures are logged:
// they never reach the task.
func (d *Dispatcher) deliverAll(ctx context.Context, dg *dag.DAG, run store.DagRun, ev Event, ns []dag.Notifier) bool {
	log := d.o.Log.With("event", ev.Kind, "dag", ev.DagID, "task", ev.TaskID, "run", ev.RunID)
	nc, err := d.notifyContext(ctx, dg, run, ev, ns)
	if err != nil {
		log.Error("notification not sent: cannot build its context; fix the DAG or the variable", "err", err)
		return false
	}
	all := true
	for _, n := range ns {
		if err := d.deliver(ctx, dg, nc, ev, n, log); err != nil {
			all = false
			log.Error("notification not delivered", "notifier", n.Type, "at", n.Range.String(), "err", err)
		}
	}
	return all
}

func (d *Dispatcher) deliver(ctx context.Context, dg *dag.DAG, nc dag.NotifyContext, ev Event, n dag.Notifier, log *slog.Logger) error {
	rendered, diags := dg.RenderNotifier(n, nc)
	if diags.HasErrors() {
		return fmt.Errorf("render %s notifier: %w", n.Type, diags)
	}
	sender := d.senders[n.Type]
	if sender == nil {
		return fmt.Errorf("no sender for notifier type %q", n.Type)
	}
	retry, tried := d.o.Retry.withDefaults(), 0
	attempts, err := retry.do(ctx, func(ctx context.Context) error {
		err := sender.Send(ctx, ev, rendered)
		if tried++; err != nil && !isPermanent(err) && tried < retry.Attempts {
			log.Warn("notification attempt failed; retrying", "notifier", n.Type, "err", err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("after %d attempt(s): %w", attempts, err)
	}
	log.Info("notification delivered", "notifier", n.Type, "attempts", attempts)
	return nil
}

// notifyContext gathers what the notifiers' expressions may reference.
func (d *Dispatcher) notifyContext(ctx context.Context, dg *dag.DAG, run store.DagRun, ev Event, ns []dag.Notifier) (dag.NotifyContext, error) {
	params, err := dg.MergeParams(run.Conf)
	if err != nil {
		return dag.NotifyContext{}, fmt.Errorf("run %s conf: %w", run.RunID, err)
	}
	vars := map[string]string{}
	for _, key := range dag.NotifierVarRefs(ns) {
		v, err := d.o.Store.GetVariable(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue // rendering names the missing variable
		}
		if err != nil {
			return dag.NotifyContext{}, fmt.Errorf("read variable %q: %w", key, err)
		}
		vars[key] = v.Value
	}
	return dag.NotifyContext{
		Run: dag.RunContext{
			RunID: run.RunID, LogicalDate: run.LogicalDate, DataIntervalStart: run.DataIntervalStart,
			DataIntervalEnd: run.DataIntervalEnd, Params: params, Vars: vars,
		},
		Event: ev.Kind, TaskID: ev.TaskID, Try: ev.Try, State: ev.State, LogURL: ev.LogURL,
	}, nil
}

// taskURL is the UI page of one try's log.
func (d *Dispatcher) taskURL(k store.TIKey, try int) string {
	u := d.url("dags", k.DagID, "runs", k.RunID, "tasks", k.TaskID)
	if try > 0 {
		u += "?try=" + strconv.Itoa(try)
	}
	return u
}

// url joins escaped path segments to the base URL.
func (d *Dispatcher) url(segs ...string) string {
	base := d.o.BaseURL
	if base == "" {
		base = "http://localhost:8080"
	}
	u, err := url.JoinPath(base, segs...)
	if err != nil {
		return base
	}
	return u
}
