package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

const jobType = "scheduler"

func (s *Scheduler) startJob(ctx context.Context) error {
	now := s.now()
	j, err := s.store.StartJob(ctx, store.Job{
		JobType: jobType, State: "running", Hostname: s.cfg.Hostname, PID: os.Getpid(),
		StartDate: now, LatestHeartbeat: now,
	})
	if err != nil {
		return fmt.Errorf("register scheduler job: %w", err)
	}
	s.jobID = j.ID
	return nil
}

func (s *Scheduler) endJob() {
	if err := s.store.EndJob(context.Background(), s.jobID, "success", s.now()); err != nil {
		s.log.Error("end scheduler job", "err", err)
	}
}

// heartbeat keeps the job alive for /health and for other schedulers'
// orphan detection.
func (s *Scheduler) heartbeat(ctx context.Context) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.HeartbeatJob(ctx, s.jobID, s.now()); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("scheduler heartbeat", "err", err)
				}
				continue
			}
			s.cfg.Metrics.SchedulerHeartbeat()
			s.reportSlots(ctx)
		}
	}
}

// recoverOrphans takes back task instances queued by a scheduler that is
// gone: queued ones were lost with its in-memory queue and running ones
// with its processes. They go back to scheduled; the interrupted try is
// not charged against the task's retries since the task did not fail.
func (s *Scheduler) recoverOrphans(ctx context.Context) error {
	if s.cfg.Distributed {
		return nil // the broker keeps queued tasks and redelivers those of dead workers
	}
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{States: busyStates})
	if err != nil {
		return fmt.Errorf("list queued/running task instances: %w", err)
	}
	dead := map[int64]bool{}
	for _, ti := range tis {
		alive, seen := dead[ti.QueuedByJobID]
		if !seen {
			alive = s.jobAlive(ctx, ti.QueuedByJobID)
			dead[ti.QueuedByJobID] = alive
		}
		if alive {
			continue
		}
		if err := s.handBack(ctx, ti); err != nil {
			return err
		}
		s.log.Warn("recovered orphaned task instance", "dag", ti.DagID, "run", ti.RunID, "task", ti.TaskID, "was", ti.State)
	}
	return nil
}

func (s *Scheduler) jobAlive(ctx context.Context, id int64) bool {
	if id == s.jobID {
		return true
	}
	j, err := s.store.GetJob(ctx, id)
	if err != nil || j.State != "running" {
		return false
	}
	if j.Hostname == s.cfg.Hostname && !pidAlive(j.PID) {
		return false
	}
	return s.now().Sub(j.LatestHeartbeat) < s.cfg.OrphanTimeout
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// handBack returns a queued or running task instance to scheduled.
func (s *Scheduler) handBack(ctx context.Context, ti store.TaskInstance) error {
	_, err := s.store.UpdateTaskInstance(ctx, ti.TIKey, func(t *store.TaskInstance) error {
		if t.State != ti.State || t.QueuedByJobID != ti.QueuedByJobID {
			return store.ErrStateConflict
		}
		if t.State == store.TIRunning {
			t.MaxTries++
		}
		t.State = store.TIScheduled
		return nil
	})
	if errors.Is(err, store.ErrStateConflict) {
		return nil
	}
	return err
}

// ReleaseQueued hands back what this scheduler queued but no worker
// started, so a clean shutdown leaves nothing stuck in "queued".
func (s *Scheduler) ReleaseQueued(ctx context.Context) error {
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIQueued}, QueuedByJobID: s.jobID})
	if err != nil {
		return err
	}
	var errs []error
	for _, ti := range tis {
		errs = append(errs, s.handBack(ctx, ti))
	}
	return errors.Join(errs...)
}
