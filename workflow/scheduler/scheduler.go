// Package scheduler turns DAG definitions into runs and task instances and
// moves them along the state machine none → scheduled → queued → running →
// success/failed/up_for_retry/upstream_failed/skipped. It is event-driven:
// a finished task wakes it at once, so downstream tasks are queued without
// a polling delay; a timer covers schedules, retries and other processes.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

// Config tunes the scheduler; zero fields take the defaults below.
type Config struct {
	// Parallelism caps queued+running task instances (the executor's slots).
	Parallelism int
	// PollInterval bounds how long work made by another process (a trigger
	// from the CLI or API) waits to be seen.
	PollInterval      time.Duration
	HeartbeatInterval time.Duration
	// OrphanTimeout: a scheduler job silent this long is dead and its
	// queued/running task instances are taken back.
	OrphanTimeout time.Duration
	// QueuedTimeout: a task instance queued (or running) this long whose
	// message the broker lost is queued again (or failed over); see lost.go.
	QueuedTimeout time.Duration
	Hostname      string
	// Distributed: tasks go to a persistent broker and run on other
	// processes, whose leases (not this scheduler's liveness) decide when
	// a task is taken over; orphan recovery then leaves them alone.
	Distributed bool
	// Metrics receives scheduler metrics (default: discarded).
	Metrics metrics.Sink
	// RunFinished, when set, is told of every run this scheduler moved
	// to success or failed (DAG-level notifiers); it must not block.
	RunFinished func(ctx context.Context, run store.DagRun)
}

func (c Config) withDefaults() Config {
	if c.Parallelism <= 0 {
		c.Parallelism = 32
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	if c.OrphanTimeout <= 0 {
		c.OrphanTimeout = 30 * time.Second
	}
	if c.QueuedTimeout <= 0 {
		c.QueuedTimeout = 30 * time.Second
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	c.Metrics = metrics.OrNoop(c.Metrics)
	return c
}

// Scheduler is one scheduler process's loop.
type Scheduler struct {
	cfg   Config
	store store.Store
	queue queue.Queue
	log   *slog.Logger
	bag   atomic.Pointer[dag.Bag]
	wake  chan struct{}
	jobID int64
	now   func() time.Time
	// only restricts the scheduler to these runs (dags test, backfill);
	// it then ignores paused flags and schedules no new runs.
	only map[runKey]bool
	// warnedPools: pools already reported missing (the loop is single-threaded).
	warnedPools map[string]bool
	// paused caches the DAGs' paused flags, read at pausedAt.
	paused   map[string]bool
	pausedAt time.Time
	// lostAt is when recoverLost last looked.
	lostAt time.Time
}

type runKey struct{ dagID, runID string }

// New returns a scheduler that queues work on q.
func New(cfg Config, st store.Store, q queue.Queue, log *slog.Logger) *Scheduler {
	return &Scheduler{
		cfg:   cfg.withDefaults(),
		store: st,
		queue: q,
		log:   log,
		wake:  make(chan struct{}, 1),
		now:   time.Now,

		warnedPools: map[string]bool{},
	}
}

// Only restricts the scheduler to the given runs, for running a backfill
// or a test run to completion in the CLI process.
func (s *Scheduler) Only(runs []store.DagRun) {
	s.only = map[runKey]bool{}
	for _, r := range runs {
		s.only[runKey{r.DagID, r.RunID}] = true
	}
}

// Notify wakes the loop; workers call it when a task instance finishes.
func (s *Scheduler) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DAG returns the current definition of a DAG, or nil.
func (s *Scheduler) DAG(id string) *dag.DAG {
	if b := s.bag.Load(); b != nil {
		return b.DAGs[id]
	}
	return nil
}

// Run schedules until ctx ends. With Only set it returns once those runs
// have finished. The caller drains its workers and then calls
// ReleaseQueued.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.startJob(ctx); err != nil {
		return err
	}
	defer s.endJob()
	go s.heartbeat(ctx)
	if err := s.recoverOrphans(ctx); err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
		next, done, err := s.tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduler loop", "err", err)
		}
		if done {
			return nil
		}
		timer.Reset(s.untilNext(next))
	}
}

func (s *Scheduler) untilNext(next time.Time) time.Duration {
	d := s.cfg.PollInterval
	if !next.IsZero() {
		d = min(d, max(next.Sub(s.now()), 0))
	}
	return d
}

// tick does one pass: create due runs, advance active runs, queue ready
// tasks. It returns the earliest time something is due next.
func (s *Scheduler) tick(ctx context.Context) (next time.Time, done bool, err error) {
	paused, err := s.pausedDAGs(ctx)
	if err != nil {
		return next, false, err
	}
	if s.only == nil {
		next, err = s.createScheduledRuns(ctx, paused)
		if err != nil {
			return next, false, err
		}
	}
	active, err := s.activeRuns(ctx, paused)
	if err != nil {
		return next, false, err
	}
	if s.only != nil && len(active) == 0 {
		return next, true, nil
	}
	retryAt, err := s.advanceRuns(ctx, active)
	next = earliest(next, retryAt)
	if err != nil {
		return next, false, err
	}
	return next, false, errors.Join(s.queueReady(ctx, active), s.recoverLost(ctx))
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// pausedDAGs reads the paused flags at most once per poll interval: a
// pause comes from another process (CLI, API) and is seen within the poll
// interval anyway, while a busy fan-out wakes the loop on every task end.
func (s *Scheduler) pausedDAGs(ctx context.Context) (map[string]bool, error) {
	if s.only != nil {
		return map[string]bool{}, nil
	}
	if s.paused != nil && s.now().Sub(s.pausedAt) < s.cfg.PollInterval && s.pausedKnowsAll() {
		return s.paused, nil
	}
	dags, err := s.store.ListDAGs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	paused := map[string]bool{}
	for _, d := range dags {
		paused[d.DagID] = d.IsPaused
	}
	s.paused, s.pausedAt = paused, s.now()
	return paused, nil
}

// pausedKnowsAll reports whether the cache covers every loaded DAG: a DAG
// just added to the folder may start paused and must not be scheduled on a
// stale "unknown means unpaused".
func (s *Scheduler) pausedKnowsAll() bool {
	b := s.bag.Load()
	if b == nil {
		return true
	}
	for id := range b.DAGs {
		if _, ok := s.paused[id]; !ok {
			return false
		}
	}
	return true
}

// activeRuns lists queued and running runs this scheduler may advance,
// oldest logical date first.
func (s *Scheduler) activeRuns(ctx context.Context, paused map[string]bool) ([]store.DagRun, error) {
	runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{States: []store.RunState{store.RunQueued, store.RunRunning}})
	if err != nil {
		return nil, fmt.Errorf("list active runs: %w", err)
	}
	kept := runs[:0]
	for _, r := range runs {
		if s.only != nil && !s.only[runKey{r.DagID, r.RunID}] {
			continue
		}
		if paused[r.DagID] || s.DAG(r.DagID) == nil {
			continue
		}
		kept = append(kept, r)
	}
	return kept, nil
}
