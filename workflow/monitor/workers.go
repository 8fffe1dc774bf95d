package monitor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// Worker is one worker process as flower shows it.
type Worker struct {
	// Name is the one the worker registered with (worker.name, e.g.
	// worker1@host from its systemd unit), else Celery-style
	// worker@hostname; with the pid when two workers share a name.
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// Role is the job type: "worker", or "scheduler" for a standalone
	// process running tasks with its local executor; empty for a process
	// seen on task instances but not registered as a job.
	Role          string    `json:"role"`
	JobID         int64     `json:"job_id,omitempty"`
	State         string    `json:"state"` // the job's: running, success, failed
	Alive         bool      `json:"alive"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
	// Active counts running task instances; Processed the task instances
	// whose latest try ended on this worker, Failed those of them that
	// failed (failed or up_for_retry).
	Active    int `json:"active"`
	Processed int `json:"processed"`
	Failed    int `json:"failed"`
}

type procKey struct {
	host string
	pid  int
}

// retention: ended workers stay listed this long, like Flower's offline
// workers, then drop off.
const retention = 24 * time.Hour

// workers joins worker jobs with counts of task instances by the
// (hostname, pid) the runner records on each try.
//
// The counts come from listing running and finished task instances: the
// store can neither filter nor group by hostname. That is one read of the
// finished task instances per request, fine for the page's refresh rate
// but linear in the task history.
func (s *Server) workers(ctx context.Context) ([]Worker, error) {
	jobs, err := allJobs(ctx, s.o.Store)
	if err != nil {
		return nil, err
	}
	now := s.o.now()
	byProc := map[procKey]*Worker{}
	for _, j := range jobs {
		k := procKey{j.Hostname, j.PID}
		if old := byProc[k]; old != nil && old.JobID > j.ID {
			continue // pid reuse: the newer job wins
		}
		if j.JobType == "scheduler" && j.State != "running" {
			continue // a past scheduler matters only if it ran tasks (added below)
		}
		if j.State != "running" && now.Sub(j.EndDate) > retention {
			continue
		}
		byProc[k] = &Worker{
			Name:     j.Name,
			Hostname: j.Hostname, PID: j.PID, Role: j.JobType, JobID: j.ID, State: j.State,
			Alive:     j.State == "running" && now.Sub(j.LatestHeartbeat) < s.o.AliveWithin,
			StartedAt: j.StartDate, LastHeartbeat: j.LatestHeartbeat,
		}
	}
	tis, err := s.o.Store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIRunning, store.TISuccess, store.TIFailed, store.TIUpForRetry}})
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	for _, ti := range tis {
		if ti.Hostname == "" {
			continue
		}
		w := byProc[procKey{ti.Hostname, ti.PID}]
		if w == nil {
			if ti.State != store.TIRunning {
				continue // history of a process long gone (or never registered)
			}
			// Running on a process with no job: worth showing.
			w = &Worker{Hostname: ti.Hostname, PID: ti.PID, State: "unknown"}
			byProc[procKey{ti.Hostname, ti.PID}] = w
		}
		switch ti.State {
		case store.TIRunning:
			w.Active++
		case store.TIFailed, store.TIUpForRetry:
			w.Processed++
			w.Failed++
		default:
			w.Processed++
		}
	}
	out := make([]Worker, 0, len(byProc))
	for _, w := range byProc {
		// A scheduler that never ran a task is not a worker (distributed
		// mode); one that did is a standalone's local executor.
		if w.Role == "scheduler" && w.Active+w.Processed == 0 {
			continue
		}
		out = append(out, *w)
	}
	nameWorkers(out)
	slices.SortFunc(out, func(a, b Worker) int {
		if a.Alive != b.Alive {
			if a.Alive {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.PID, b.PID))
	})
	return out, nil
}

// nameWorkers gives a worker without a registered name (a scheduler, an
// unregistered process, a job from before names) worker@hostname, and adds
// the pid where names collide, so every row names one process.
func nameWorkers(ws []Worker) {
	uses := map[string]int{}
	for i := range ws {
		if ws[i].Name == "" {
			ws[i].Name = "worker@" + ws[i].Hostname
		}
		uses[ws[i].Name]++
	}
	for i := range ws {
		if uses[ws[i].Name] > 1 {
			ws[i].Name = fmt.Sprintf("%s (pid %d)", ws[i].Name, ws[i].PID)
		}
	}
}
