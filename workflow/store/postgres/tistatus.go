package postgres

import (
	"context"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

// ListTIStatuses reads four columns through the ti_dag_run index, unsorted.
func (s *Store) ListTIStatuses(ctx context.Context, dagID string, runIDs []string) ([]store.TIStatus, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT run_id, task_id, state, try_number FROM task_instance
		WHERE dag_id = $1 AND run_id = ANY($2)`, dagID, runIDs)
	out, err := scanAll(rows, err, func(sc scanner) (store.TIStatus, error) {
		var st store.TIStatus
		err := sc.Scan(&st.RunID, &st.TaskID, &st.State, &st.TryNumber)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("list task instance statuses of %s: %w", dagID, err)
	}
	return out, nil
}
