package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// claimTI moves one task instance from scheduled to queued and returns it;
// no row means it was not scheduled.
const claimTI = `UPDATE task_instance SET state = ?, queued_by_job_id = ?, queued_dttm = ?, updated_at = ?
	WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = ?
	RETURNING ` + tiCols

// ClaimTaskInstances claims in one write transaction. SQLite serializes
// writers, so concurrent claimers (in one process: a single scheduler)
// never claim the same row; there is nothing to skip.
func (s *Store) ClaimTaskInstances(ctx context.Context, keys []store.TIKey, jobID int64, at time.Time) ([]store.TaskInstance, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var tis []store.TaskInstance
	err := s.write(ctx, func(tx *sql.Tx) error {
		tis = tis[:0]
		stmt, err := tx.PrepareContext(ctx, claimTI)
		if err != nil {
			return err
		}
		defer stmt.Close()
		stamp := now()
		for _, k := range keys {
			ti, err := scanTI(stmt.QueryRowContext(ctx, store.TIQueued, jobID, dbTime(at), dbTime(stamp),
				k.DagID, k.RunID, k.TaskID, store.TIScheduled))
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			tis = append(tis, ti)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d scheduled task instances for job %d: %w", len(keys), jobID, err)
	}
	return tis, nil
}

// Critical holds the store's in-process lock while fn runs.
func (s *Store) Critical(ctx context.Context, fn func(context.Context) error) error {
	s.critical.Lock()
	defer s.critical.Unlock()
	return fn(ctx)
}
