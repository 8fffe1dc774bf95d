package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// MoveTaskInstances is one UPDATE … RETURNING over the IDs as an array.
func (s *Store) MoveTaskInstances(ctx context.Context, dagID, runID string, taskIDs []string, from, to store.TIState, at time.Time) ([]string, error) {
	if len(taskIDs) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE task_instance SET state = $1,
		end_date = CASE WHEN $2 THEN $3 ELSE end_date END, updated_at = $4
		WHERE dag_id = $5 AND run_id = $6 AND state = $7 AND task_id = ANY($8)
		RETURNING task_id`, to, to.Finished(), dbTime(at), dbTime(now()), dagID, runID, from, taskIDs)
	moved, err := scanAll(rows, err, func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("move task instances of %s/%s from %q to %s: %w", dagID, runID, from, to, err)
	}
	return moved, nil
}
