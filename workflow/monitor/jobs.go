package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/airctl/airctl/workflow/store"
)

// JobLister is implemented by stores that can list jobs by type. The
// Store interface has no such method yet; until it does, jobScanner finds
// jobs by their IDs.
type JobLister interface {
	ListJobs(ctx context.Context, jobType string) ([]store.Job, error)
}

// jobScanner finds worker (and scheduler) jobs with the Store interface
// alone: job IDs are sequential, so it reads back a window of IDs below
// the newest job once, then only new IDs and the jobs still running.
// Ended jobs never change and stay cached.
type jobScanner struct {
	st store.Store

	mu    sync.Mutex
	jobs  map[int64]store.Job
	maxID int64
}

const (
	// scanWindow is how many job IDs below the newest the first scan
	// reads: far more than the processes a deployment restarts at once.
	scanWindow = 256
	// probeMisses is how many missing IDs in a row end the upward probe
	// (IDs can have gaps after rolled-back inserts).
	probeMisses = 8
)

func newJobScanner(st store.Store) *jobScanner {
	return &jobScanner{st: st, jobs: map[int64]store.Job{}}
}

// all returns the known jobs of every type, refreshed.
func (j *jobScanner) all(ctx context.Context) ([]store.Job, error) {
	if l, ok := j.st.(JobLister); ok {
		var out []store.Job
		for _, t := range []string{"worker", "scheduler"} {
			js, err := l.ListJobs(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("list %s jobs: %w", t, err)
			}
			out = append(out, js...)
		}
		return out, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.refresh(ctx); err != nil {
		return nil, err
	}
	out := make([]store.Job, 0, len(j.jobs))
	for _, job := range j.jobs {
		out = append(out, job)
	}
	return out, nil
}

func (j *jobScanner) refresh(ctx context.Context) error {
	newest := int64(0)
	for _, t := range []string{"worker", "scheduler"} {
		job, err := j.st.LatestJob(ctx, t)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("latest %s job: %w", t, err)
		}
		newest = max(newest, job.ID)
	}
	from := j.maxID + 1
	if j.maxID == 0 {
		from = max(1, newest-scanWindow)
	}
	// Re-read running jobs first for fresh heartbeats and end states.
	for id, job := range j.jobs {
		if job.State != "running" {
			continue
		}
		if _, err := j.fetch(ctx, id); err != nil {
			return err
		}
	}
	misses := 0
	for id := from; id <= newest || misses < probeMisses; id++ {
		found, err := j.fetch(ctx, id)
		if err != nil {
			return err
		}
		if found {
			misses = 0
		} else if id > newest {
			misses++
		}
	}
	return nil
}

// fetch reads one job into the cache and reports whether it exists.
func (j *jobScanner) fetch(ctx context.Context, id int64) (bool, error) {
	job, err := j.st.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read job %d: %w", id, err)
	}
	j.jobs[id] = job
	j.maxID = max(j.maxID, id)
	return true, nil
}
