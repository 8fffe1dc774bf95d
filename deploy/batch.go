package deploy

import (
	"context"
	"fmt"
	"sync"
)

// run deploys hosts in batches of Options.Batch (all at once when 0), at
// most Options.Parallel at a time; a batch starts only when every host of
// the previous one runs the release asked for (a new one, or for a
// rollback the one gone back to), so a bad release stops after one batch
// instead of reaching the fleet.
func (d *deployer) run(ctx context.Context, hosts []Host) []HostResult {
	results := make([]HostResult, len(hosts))
	size := d.opts.Batch
	if size <= 0 {
		size = len(hosts)
	}
	var stop error
	for start := 0; start < len(hosts); start += size {
		batch := results[start:min(start+size, len(hosts))]
		if stop == nil {
			stop = ctx.Err()
		}
		if stop != nil {
			for i := range batch {
				h := hosts[start+i]
				batch[i] = HostResult{Host: h.name(), Release: d.releaseName(), Outcome: Skipped, Err: fmt.Errorf("not attempted: %w", stop)}
				d.emit(Event{Host: h.name(), Step: StepConnect, Status: StatusSkipped, Message: stop.Error()})
			}
			continue
		}
		d.runBatch(ctx, hosts[start:start+len(batch)], batch)
		for _, r := range batch {
			if !d.succeeded(r.Outcome) {
				stop = fmt.Errorf("batch %d (hosts %d-%d) did not all succeed", start/size+1, start+1, start+len(batch))
				break
			}
		}
	}
	return results
}

func (d *deployer) runBatch(ctx context.Context, hosts []Host, out []HostResult) {
	sem := make(chan struct{}, d.opts.Parallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = d.deployHost(ctx, h)
		})
	}
	wg.Wait()
}
