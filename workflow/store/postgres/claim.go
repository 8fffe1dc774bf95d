package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/store"
)

// Scheduler HA (issue 7): several schedulers on one database split the
// scheduled task instances between them with row locks instead of a
// leader election.

// claimQuery moves the task instances named by the arrays $1 (dag_id),
// $2 (run_id), $3 (task_id) that are in state $4 to state $5, queued by job
// $6 at $7, in one statement, and returns them in the arrays' order.
//
// FOR UPDATE OF ti SKIP LOCKED locks the chosen task_instance rows and
// passes over rows another transaction has locked (a concurrent claim or a
// worker's UpdateTaskInstance), so concurrent claimers take disjoint sets
// without waiting for each other. If a row was claimed and committed after
// this statement's snapshot, Postgres re-checks the WHERE on the new
// version when locking it, finds it queued, and drops it: no row is
// claimed twice.
const claimQuery = `WITH wanted AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS w(dag_id, run_id, task_id, ord)
	), claimable AS (
		SELECT ti.dag_id, ti.task_id, ti.run_id, w.ord FROM task_instance ti
		JOIN wanted w ON w.dag_id = ti.dag_id AND w.run_id = ti.run_id AND w.task_id = ti.task_id
		WHERE ti.state = $4
		FOR UPDATE OF ti SKIP LOCKED
	), claimed AS (
		UPDATE task_instance t SET state = $5, queued_by_job_id = $6, queued_dttm = $7, updated_at = $8
		FROM claimable c
		WHERE t.dag_id = c.dag_id AND t.task_id = c.task_id AND t.run_id = c.run_id
		RETURNING t.*, c.ord
	)
	SELECT ` + tiCols + ` FROM claimed ORDER BY ord`

// ClaimTaskInstances claims in one statement; see claimQuery.
func (s *Store) ClaimTaskInstances(ctx context.Context, keys []store.TIKey, jobID int64, at time.Time) ([]store.TaskInstance, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var tis []store.TaskInstance
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		tis, err = claim(ctx, tx, keys, jobID, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d scheduled task instances for job %d: %w", len(keys), jobID, err)
	}
	return tis, nil
}

// claim runs claimQuery inside tx: the rows stay locked until tx ends.
func claim(ctx context.Context, tx pgx.Tx, keys []store.TIKey, jobID int64, at time.Time) ([]store.TaskInstance, error) {
	dags, runs, tasks := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		dags[i], runs[i], tasks[i] = k.DagID, k.RunID, k.TaskID
	}
	rows, err := tx.Query(ctx, claimQuery, dags, runs, tasks, store.TIScheduled, store.TIQueued,
		jobID, dbTime(at), dbTime(now()))
	return scanAll(rows, err, scanTI)
}

// criticalLockKey is the advisory lock key of the schedulers' critical
// section: "aird" in ASCII, so it is recognisable in pg_locks.
const criticalLockKey = 0x61697264

// Critical holds a session-level advisory lock on a connection of its own
// while fn runs on the pool's other connections: fn's commits are visible
// to the next holder, and a process that dies drops its connection and
// with it the lock.
func (s *Store) Critical(ctx context.Context, fn func(context.Context) error) error {
	s.critical.Lock()
	defer s.critical.Unlock()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("scheduler critical section: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, criticalLockKey); err != nil {
		// A cancel can land after the lock was granted: drop the
		// connection rather than pool it with the lock maybe held.
		conn.Conn().Close(context.WithoutCancel(ctx))
		return fmt.Errorf("scheduler critical section: take the advisory lock: %w", err)
	}
	ferr := fn(ctx)
	if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, criticalLockKey); err != nil {
		// The lock may still be held: a pooled connection must not keep it.
		conn.Conn().Close(context.WithoutCancel(ctx))
		return errors.Join(ferr, fmt.Errorf("scheduler critical section: release the advisory lock: %w", err))
	}
	return ferr
}
