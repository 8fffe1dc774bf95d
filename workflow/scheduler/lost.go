package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

// Lost messages and zombie tries (distributed mode). The broker is the only
// copy of a queued task's message, and a running try has only its worker:
//
//   - a task instance queued for longer than QueuedTimeout whose message the
//     broker no longer holds (Redis restarted without persistence, a
//     FLUSHALL, or a scheduler died between claiming and pushing) is pushed
//     again, for the same try;
//   - a task instance running for longer than QueuedTimeout whose message is
//     gone (so no lease will expire and redeliver it) and whose worker has
//     stopped heartbeating for OrphanTimeout gets a new try, as a
//     redelivery after a worker's death does.
//
// Airflow fails such zombie tries and charges them against the retries; we
// do not charge them, like a lease redelivery: the task did not fail, its
// worker vanished. A task that kills its own worker every time would loop,
// but that is visible in the log of every try.
//
// Every scheduler runs this check: pushes are idempotent per try and every
// move is a compare-and-set, so they cannot double a message or a try.

// recoverLost runs the check at most every QueuedTimeout/2.
func (s *Scheduler) recoverLost(ctx context.Context) error {
	h, ok := s.queue.(queue.Holder)
	if !ok || !s.cfg.Distributed || s.now().Sub(s.lostAt) < s.cfg.QueuedTimeout/2 {
		return nil
	}
	s.lostAt = s.now()
	return errors.Join(s.repushLost(ctx, h), s.failOverZombies(ctx, h))
}

// stale lists the task instances in state that entered it before the
// timeout, with the message each should have in the broker.
func (s *Scheduler) stale(ctx context.Context, state store.TIState) ([]store.TaskInstance, []queue.Message, error) {
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{state}})
	if err != nil {
		return nil, nil, fmt.Errorf("list %s task instances: %w", state, err)
	}
	cutoff := s.now().Add(-s.cfg.QueuedTimeout)
	var old []store.TaskInstance
	var ms []queue.Message
	for _, ti := range tis {
		since, m := ti.QueuedAt, message(ti)
		if state == store.TIRunning {
			since, m.Try = ti.StartDate, ti.TryNumber
		}
		if since.Before(cutoff) {
			old, ms = append(old, ti), append(ms, m)
		}
	}
	return old, ms, nil
}

func (s *Scheduler) repushLost(ctx context.Context, h queue.Holder) error {
	tis, ms, err := s.stale(ctx, store.TIQueued)
	if err != nil || len(tis) == 0 {
		return err
	}
	held, err := h.Holds(ctx, ms)
	if err != nil {
		return err
	}
	for i, ti := range tis {
		if held[i] {
			continue
		}
		// Still queued for the same try after the broker said it has no
		// message: no worker took it (a worker acks only after moving it
		// on), so the message is lost. A late push of the scheduler that
		// claimed it is harmless: pushes are idempotent per try.
		now, err := s.store.GetTaskInstance(ctx, ti.TIKey)
		if err != nil {
			return err
		}
		if now.State != store.TIQueued || now.TryNumber != ti.TryNumber {
			continue
		}
		s.log.Warn("the broker lost a queued task's message; queueing it again", "dag", ti.DagID, "run", ti.RunID, "task", ti.TaskID, "try", ms[i].Try)
		if err := s.queue.Push(ctx, ms[i]); err != nil {
			return fmt.Errorf("queue %v again: %w", ti.TIKey, err)
		}
	}
	return nil
}

func (s *Scheduler) failOverZombies(ctx context.Context, h queue.Holder) error {
	tis, ms, err := s.stale(ctx, store.TIRunning)
	if err != nil || len(tis) == 0 {
		return err
	}
	held, err := h.Holds(ctx, ms)
	if err != nil {
		return err
	}
	workers, err := s.store.ListJobs(ctx, "worker")
	if err != nil {
		return fmt.Errorf("list workers: %w", err)
	}
	for i, ti := range tis {
		if held[i] || s.workerAlive(workers, ti) {
			continue // its lease or its worker will settle it
		}
		if err := s.failOver(ctx, ti); err != nil {
			return err
		}
	}
	return nil
}

// workerAlive: the worker job running ti (by host and PID) heartbeats.
func (s *Scheduler) workerAlive(workers []store.Job, ti store.TaskInstance) bool {
	for _, j := range workers { // newest first: a reused PID's old jobs come after
		if j.Hostname == ti.Hostname && j.PID == ti.PID {
			return j.State == "running" && s.now().Sub(j.LatestHeartbeat) < s.cfg.OrphanTimeout
		}
	}
	return false
}

// failOver hands a zombie try back to scheduled, not charged; its worker's
// late result, if any, no longer matches the row and is dropped.
func (s *Scheduler) failOver(ctx context.Context, ti store.TaskInstance) error {
	_, err := s.store.UpdateTaskInstance(ctx, ti.TIKey, func(t *store.TaskInstance) error {
		if t.State != store.TIRunning || t.TryNumber != ti.TryNumber || t.Hostname != ti.Hostname || t.PID != ti.PID {
			return store.ErrStateConflict
		}
		t.State, t.MaxTries, t.EndDate = store.TIScheduled, t.MaxTries+1, s.now()
		return nil
	})
	if errors.Is(err, store.ErrStateConflict) {
		return nil
	}
	if err == nil {
		s.log.Warn("zombie task: its worker stopped heartbeating and the broker has no message to redeliver; it gets a new try", "dag", ti.DagID, "run", ti.RunID, "task", ti.TaskID, "try", ti.TryNumber, "worker", ti.Hostname, "pid", ti.PID)
	}
	return err
}
