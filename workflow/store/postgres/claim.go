package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/store"
)

// Scheduler HA (issue 7): several schedulers on one database split the
// scheduled task instances between them with row locks instead of a
// leader election. Not part of store.Store yet; see claimScheduled.

// claimQuery moves up to $1 scheduled task instances to queued for job $2
// at $3, in one statement, and returns them in queueing order.
//
// FOR UPDATE OF ti SKIP LOCKED locks the chosen task_instance rows (not
// their dag_run rows, which UpdateDagRun needs) and passes over rows another
// transaction has locked, so concurrent claimers take disjoint sets without
// waiting for each other. If a row was claimed and committed after this
// statement's snapshot, Postgres re-checks the WHERE on the new version
// when locking it, finds it queued, and drops it: no row is claimed twice.
const claimQuery = `WITH claimable AS (
		SELECT ti.dag_id, ti.task_id, ti.run_id, dr.id AS run_order` + tiJoinRun + `
		WHERE ti.state = $4` + tiOrder + `
		LIMIT $1
		FOR UPDATE OF ti SKIP LOCKED
	), claimed AS (
		UPDATE task_instance t SET state = $5, queued_by_job_id = $2, queued_dttm = $3, updated_at = $3
		FROM claimable c
		WHERE t.dag_id = c.dag_id AND t.task_id = c.task_id AND t.run_id = c.run_id
		RETURNING t.*, c.run_order
	)
	SELECT ` + tiCols + ` FROM claimed
	ORDER BY priority_weight DESC, run_order, task_id`

// claimScheduled claims up to limit scheduled task instances for scheduler
// job jobID inside tx: they become queued, queued by jobID at now. The rows
// stay locked until tx ends, and other claimers skip them meanwhile.
//
// How a scheduler would use it (once store.Store grows a method for it):
// each scheduler loop, in one transaction, claim a batch sized by its free
// executor slots (pool slot accounting would join slot_pool here), hand the
// claimed task instances to the broker, and commit. Two schedulers then
// never queue the same task instance; a scheduler that dies before
// committing releases its rows with its connection, and the others claim
// them on their next loop. Task instances queued by a scheduler whose job
// heartbeat went stale can be reset to scheduled by the survivors (Airflow's
// adopt-or-reset), using TIFilter.QueuedByJobID.
func claimScheduled(ctx context.Context, tx pgx.Tx, limit int, jobID int64, now time.Time) ([]store.TaskInstance, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, claimQuery, limit, jobID, dbTime(now), store.TIScheduled, store.TIQueued)
	tis, err := scanAll(rows, err, scanTI)
	if err != nil {
		return nil, fmt.Errorf("claim scheduled task instances for job %d: %w", jobID, err)
	}
	return tis, nil
}

// claimScheduledNow is claimScheduled in a transaction of its own, for a
// caller that has nothing else to do before committing.
func (s *Store) claimScheduledNow(ctx context.Context, limit int, jobID int64, now time.Time) ([]store.TaskInstance, error) {
	var tis []store.TaskInstance
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		tis, err = claimScheduled(ctx, tx, limit, jobID, now)
		return err
	})
	return tis, err
}
