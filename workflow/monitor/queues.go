package monitor

import (
	"context"
	"slices"

	"github.com/airctl/airctl/workflow/store"
)

// Queue is one named broker queue.
type Queue struct {
	Name string `json:"name"`
	// Waiting counts messages no worker has taken yet.
	Waiting int `json:"waiting"`
	// Queued counts task instances in state queued for this queue: waiting
	// plus taken but not yet started.
	Queued int `json:"queued"`
	// Running counts running task instances of this queue.
	Running int `json:"running"`
}

// Queues is the broker's view: per-queue depths and, for Redis, how many
// messages workers hold under a lease across all queues.
type Queues struct {
	Queues []Queue `json:"queues"`
	Leased *int    `json:"leased,omitempty"`
	// Error says why depths are missing (broker down); the counts from
	// the store are still there.
	Error string `json:"error,omitempty"`
}

func (s *Server) queues(ctx context.Context) (Queues, error) {
	tis, err := s.o.Store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIQueued, store.TIRunning}})
	if err != nil {
		return Queues{}, err
	}
	byName := map[string]*Queue{}
	get := func(name string) *Queue {
		if byName[name] == nil {
			byName[name] = &Queue{Name: name}
		}
		return byName[name]
	}
	for _, name := range s.o.Queues {
		get(name)
	}
	for _, ti := range tis {
		if ti.State == store.TIQueued {
			get(ti.Queue).Queued++
		} else {
			get(ti.Queue).Running++
		}
	}
	var out Queues
	for _, q := range byName {
		if s.o.Broker != nil && out.Error == "" {
			n, err := s.o.Broker.Len(ctx, q.Name)
			if err != nil {
				out.Error = err.Error()
			}
			q.Waiting = n
		}
		out.Queues = append(out.Queues, *q)
	}
	if lc, ok := s.o.Broker.(leaseCounter); ok && out.Error == "" {
		n, err := lc.Leased(ctx)
		if err != nil {
			out.Error = err.Error()
		} else {
			out.Leased = &n
		}
	}
	slices.SortFunc(out.Queues, func(a, b Queue) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}
