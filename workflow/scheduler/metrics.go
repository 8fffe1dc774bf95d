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
	counts, err := s.store.CountBusy(ctx)
	if err != nil {
		return // the next heartbeat tries again; gauges keep their last value
	}
	var queued, running int
	type poolUse struct{ queued, running, slots int }
	use := map[string]poolUse{}
	for _, c := range counts {
		u := use[c.Pool]
		if c.State == store.TIQueued {
			queued, u.queued = queued+c.Count, u.queued+c.Count
		} else {
			running, u.running = running+c.Count, u.running+c.Count
		}
		u.slots += c.PoolSlots
		use[c.Pool] = u
	}
	s.cfg.Metrics.ExecutorSlots(s.cfg.Parallelism-queued-running, queued, running)
	pools, err := s.store.ListPools(ctx)
	if err != nil {
		return
	}
	for _, p := range pools {
		u := use[p.Name]
		s.cfg.Metrics.PoolSlots(p.Name, p.Slots-u.slots, u.queued, u.running)
	}
}
