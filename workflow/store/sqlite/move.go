package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// MoveTaskInstances is one UPDATE … RETURNING over the IDs as a JSON array.
func (s *Store) MoveTaskInstances(ctx context.Context, dagID, runID string, taskIDs []string, from, to store.TIState, at time.Time) ([]string, error) {
	if len(taskIDs) == 0 {
		return nil, nil
	}
	ids, err := json.Marshal(taskIDs)
	if err != nil {
		return nil, fmt.Errorf("move task instances: %w", err)
	}
	var moved []string
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE task_instance SET state = ?,
			end_date = CASE WHEN ? THEN ? ELSE end_date END, updated_at = ?
			WHERE dag_id = ? AND run_id = ? AND state = ? AND task_id IN (SELECT value FROM json_each(?))
			RETURNING task_id`, to, to.Finished(), dbTime(at), dbTime(now()), dagID, runID, from, string(ids))
		moved, err = scanAll(rows, err, func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("move task instances of %s/%s from %q to %s: %w", dagID, runID, from, to, err)
	}
	return moved, nil
}
