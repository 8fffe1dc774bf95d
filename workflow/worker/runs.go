package worker

import (
	"context"
	"sync"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

// runCacheMax bounds the runs a worker remembers; past it, it starts over.
const runCacheMax = 256

// runCache keeps the runs of a worker's recent tasks: the tasks of a wide
// run all need the same row, and a try uses only fields that never change
// (logical date, data interval, conf). A message names its run's row id,
// so a cached run is used only for that very row, never for a later run
// that reuses a deleted run's run_id.
type runCache struct {
	mu   sync.Mutex
	runs map[[2]string]store.DagRun
}

func (c *runCache) get(ctx context.Context, st store.Store, m queue.Message) (store.DagRun, error) {
	key := [2]string{m.DagID, m.RunID}
	c.mu.Lock()
	run, ok := c.runs[key]
	c.mu.Unlock()
	if ok && m.RunRowID != 0 && run.ID == m.RunRowID {
		return run, nil
	}
	run, err := st.GetDagRun(ctx, m.DagID, m.RunID)
	if err != nil {
		return run, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil || len(c.runs) >= runCacheMax {
		c.runs = map[[2]string]store.DagRun{}
	}
	c.runs[key] = run
	return run, nil
}
