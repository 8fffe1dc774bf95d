package sqlite

import (
	"context"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

// CountBusy reads the busy task instances through the ti_state index.
func (s *Store) CountBusy(ctx context.Context) ([]store.BusyCount, error) {
	rows, err := s.r.QueryContext(ctx, busyQuery, store.TIQueued, store.TIRunning)
	out, err := scanAll(rows, err, scanBusy)
	if err != nil {
		return nil, fmt.Errorf("count busy task instances: %w", err)
	}
	return out, nil
}

const busyQuery = `SELECT dag_id, pool, state, count(*), sum(pool_slots) FROM task_instance
	WHERE state IN (?, ?) GROUP BY dag_id, pool, state`

func scanBusy(sc scanner) (store.BusyCount, error) {
	var b store.BusyCount
	err := sc.Scan(&b.DagID, &b.Pool, &b.State, &b.Count, &b.PoolSlots)
	return b, err
}
