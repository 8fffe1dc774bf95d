package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// tiCols are in the order of tiArgs; the key comes first.
const tiCols = `dag_id, task_id, run_id, state, try_number, max_tries, queue, pool, pool_slots,
	priority_weight, operator, hostname, pid, queued_by_job_id, queued_dttm, start_date,
	end_date, next_retry_at, updated_at`

const insertTI = `INSERT INTO task_instance (` + tiCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// updateTI takes tiArgs: the key is ?1..?3.
const updateTI = `UPDATE task_instance SET state = ?4, try_number = ?5, max_tries = ?6,
	queue = ?7, pool = ?8, pool_slots = ?9, priority_weight = ?10, operator = ?11,
	hostname = ?12, pid = ?13, queued_by_job_id = ?14, queued_dttm = ?15, start_date = ?16,
	end_date = ?17, next_retry_at = ?18, updated_at = ?19
	WHERE dag_id = ?1 AND task_id = ?2 AND run_id = ?3`

func scanTI(sc scanner) (store.TaskInstance, error) {
	var ti store.TaskInstance
	err := sc.Scan(&ti.DagID, &ti.TaskID, &ti.RunID, &ti.State, &ti.TryNumber, &ti.MaxTries,
		&ti.Queue, &ti.Pool, &ti.PoolSlots, &ti.PriorityWeight, &ti.Operator, &ti.Hostname,
		&ti.PID, &ti.QueuedByJobID, timeCol{&ti.QueuedAt}, timeCol{&ti.StartDate},
		timeCol{&ti.EndDate}, timeCol{&ti.NextRetryAt}, timeCol{&ti.UpdatedAt})
	return ti, err
}

func tiArgs(ti store.TaskInstance) []any {
	return []any{ti.DagID, ti.TaskID, ti.RunID, ti.State, ti.TryNumber, ti.MaxTries,
		ti.Queue, ti.Pool, ti.PoolSlots, ti.PriorityWeight, ti.Operator, ti.Hostname,
		ti.PID, ti.QueuedByJobID, dbTime(ti.QueuedAt), dbTime(ti.StartDate),
		dbTime(ti.EndDate), dbTime(ti.NextRetryAt), dbTime(ti.UpdatedAt)}
}

// normTI makes ti's times what reading it back would give.
func normTI(ti *store.TaskInstance) {
	for _, t := range []*time.Time{&ti.QueuedAt, &ti.StartDate, &ti.EndDate, &ti.NextRetryAt, &ti.UpdatedAt} {
		*t = utc(*t)
	}
}

func tiName(k store.TIKey) string { return k.DagID + "/" + k.RunID + "/" + k.TaskID }

func getTI(ctx context.Context, q querier, k store.TIKey) (store.TaskInstance, error) {
	ti, err := scanTI(q.QueryRowContext(ctx, `SELECT `+tiCols+` FROM task_instance
		WHERE dag_id = ? AND task_id = ? AND run_id = ?`, k.DagID, k.TaskID, k.RunID))
	return ti, dbErr(err)
}

func (s *Store) GetTaskInstance(ctx context.Context, k store.TIKey) (store.TaskInstance, error) {
	ti, err := getTI(ctx, s.r, k)
	if err != nil {
		return store.TaskInstance{}, fmt.Errorf("get task instance %s: %w", tiName(k), err)
	}
	return ti, nil
}

// tiWhere is the filter on the task_instance table, aliased ti.
func tiWhere(f store.TIFilter) *where {
	var w where
	if f.DagID != "" {
		w.add("ti.dag_id = ?", f.DagID)
	}
	if f.RunID != "" {
		w.add("ti.run_id = ?", f.RunID)
	}
	w.in("ti.task_id", f.TaskIDs, len(f.TaskIDs))
	w.in("ti.state", f.States, len(f.States))
	if f.Pool != "" {
		w.add("ti.pool = ?", f.Pool)
	}
	if f.QueuedByJobID != 0 {
		w.add("ti.queued_by_job_id = ?", f.QueuedByJobID)
	}
	return &w
}

// ListTaskInstances orders by priority weight (highest first), then runs
// in creation order, then task ID, the order a scheduler queues them in;
// the join to dag_run is for the run order.
func (s *Store) ListTaskInstances(ctx context.Context, f store.TIFilter) ([]store.TaskInstance, error) {
	w := tiWhere(f)
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("ti.", tiCols)+`
		FROM task_instance ti JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id`+
		w.String()+` ORDER BY ti.priority_weight DESC, dr.id, ti.task_id`+limit(f.Limit, f.Offset), w.args...)
	tis, err := scanAll(rows, err, scanTI)
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	return tis, nil
}

// CountTaskInstances ignores f.Limit.
func (s *Store) CountTaskInstances(ctx context.Context, f store.TIFilter) (int, error) {
	w := tiWhere(f)
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM task_instance ti`+w.String(), w.args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count task instances: %w", err)
	}
	return n, nil
}

// UpdateTaskInstance reads the row and applies fn under the write lock, so
// no other update can slip between fn's check and the write. fn cannot
// change the key; UpdatedAt is set here.
func (s *Store) UpdateTaskInstance(ctx context.Context, k store.TIKey, fn func(*store.TaskInstance) error) (store.TaskInstance, error) {
	var ti store.TaskInstance
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if ti, err = getTI(ctx, tx, k); err != nil {
			return err
		}
		if err := fn(&ti); err != nil {
			return err
		}
		ti.TIKey, ti.UpdatedAt = k, now()
		normTI(&ti)
		_, err = tx.ExecContext(ctx, updateTI, tiArgs(ti)...)
		return dbErr(err)
	})
	if err != nil {
		return store.TaskInstance{}, fmt.Errorf("update task instance %s: %w", tiName(k), err)
	}
	return ti, nil
}

// StartTry is UpdateTaskInstance with store.StartTryFn: SQLite's writes
// are serialised anyway, so one transaction costs no extra round trip.
func (s *Store) StartTry(ctx context.Context, k store.TIKey, st store.TryStart) (store.TaskInstance, error) {
	return s.UpdateTaskInstance(ctx, k, store.StartTryFn(st))
}
