package scheduler

import (
	"context"

	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/store"
)

// reportSlots sets the executor and pool gauges. It runs on the heartbeat
// rather than every pass: a pass runs on every finished task, and the
// counts cost queries the hot path should not pay; Airflow too emits pool
// gauges on an interval.
func (s *Scheduler) reportSlots(ctx context.Context) {
	if _, off := s.cfg.Metrics.(metrics.Noop); off {
		return // no one reads the gauges: spare the queries
	}
	queued, err1 := s.store.CountTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIQueued}})
	running, err2 := s.store.CountTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIRunning}})
	if err1 != nil || err2 != nil {
		return // the next heartbeat tries again; gauges keep their last value
	}
	s.cfg.Metrics.ExecutorSlots(s.cfg.Parallelism-queued-running, queued, running)
	pools, err := s.store.ListPools(ctx)
	if err != nil {
		return
	}
	for _, p := range pools {
		q, err1 := s.store.CountTaskInstances(ctx, store.TIFilter{Pool: p.Name, States: []store.TIState{store.TIQueued}})
		r, err2 := s.store.CountTaskInstances(ctx, store.TIFilter{Pool: p.Name, States: []store.TIState{store.TIRunning}})
		if err1 != nil || err2 != nil {
			return
		}
		s.cfg.Metrics.PoolSlots(p.Name, p.Slots-q-r, q, r)
	}
}
