package monitor

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// Task is one task instance in flower's task list.
type Task struct {
	DagID    string `json:"dag_id"`
	RunID    string `json:"run_id"`
	TaskID   string `json:"task_id"`
	State    string `json:"state"`
	Try      int    `json:"try_number"`
	Queue    string `json:"queue"`
	Hostname string `json:"hostname,omitempty"`
	PID      int    `json:"pid,omitempty"`

	QueuedAt  time.Time `json:"queued_at,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// Runtime is the latest try's seconds so far (running) or in all.
	Runtime float64 `json:"runtime_seconds"`
}

const (
	defaultTaskLimit = 100
	maxTaskLimit     = 1000
)

var knownStates = []store.TIState{
	store.TINone, store.TIScheduled, store.TIQueued, store.TIRunning, store.TISuccess,
	store.TIFailed, store.TIUpForRetry, store.TIUpstreamFailed, store.TISkipped,
}

// taskQuery reads ?state=a,b (names as shown, "none" for the empty state)
// and ?limit=N.
func taskQuery(q url.Values) (store.TIFilter, error) {
	f := store.TIFilter{Limit: defaultTaskLimit}
	for _, raw := range strings.Split(q.Get("state"), ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		st, ok := parseState(raw)
		if !ok {
			return f, fmt.Errorf("unknown state %q", raw)
		}
		f.States = append(f.States, st)
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("limit must be a positive number, got %q", raw)
		}
		f.Limit = min(n, maxTaskLimit)
	}
	return f, nil
}

func parseState(raw string) (store.TIState, bool) {
	for _, s := range knownStates {
		if raw == s.String() {
			return s, true
		}
	}
	return "", false
}

// tasks lists task instances in the store's order: priority, then run
// creation (the store has no order by recency).
func (s *Server) tasks(ctx context.Context, f store.TIFilter) ([]Task, error) {
	tis, err := s.o.Store.ListTaskInstances(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	now := s.o.now()
	out := make([]Task, 0, len(tis))
	for _, ti := range tis {
		t := Task{
			DagID: ti.DagID, RunID: ti.RunID, TaskID: ti.TaskID, State: ti.State.String(), Try: ti.TryNumber,
			Queue: ti.Queue, Hostname: ti.Hostname, PID: ti.PID,
			QueuedAt: ti.QueuedAt, StartedAt: ti.StartDate, EndedAt: ti.EndDate,
		}
		switch {
		case ti.State == store.TIRunning && !ti.StartDate.IsZero():
			t.Runtime = now.Sub(ti.StartDate).Seconds()
		default:
			t.Runtime = ti.Duration().Seconds()
		}
		out = append(out, t)
	}
	return out, nil
}
