package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/store"
)

// tiCols are in the order of tiArgs; the key comes first.
const tiCols = `dag_id, task_id, run_id, state, try_number, max_tries, queue, pool, pool_slots,
	priority_weight, operator, hostname, pid, queued_by_job_id, queued_dttm, start_date,
	end_date, next_retry_at, updated_at`

const insertTI = `INSERT INTO task_instance (` + tiCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`

// updateTI takes tiArgs: the key is $1..$3.
const updateTI = `UPDATE task_instance SET state = $4, try_number = $5, max_tries = $6,
	queue = $7, pool = $8, pool_slots = $9, priority_weight = $10, operator = $11,
	hostname = $12, pid = $13, queued_by_job_id = $14, queued_dttm = $15, start_date = $16,
	end_date = $17, next_retry_at = $18, updated_at = $19
	WHERE dag_id = $1 AND task_id = $2 AND run_id = $3`

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

// getTI reads one task instance; lock is "" or a locking clause such as
// FOR UPDATE.
func getTI(ctx context.Context, q querier, k store.TIKey, lock string) (store.TaskInstance, error) {
	ti, err := scanTI(q.QueryRow(ctx, `SELECT `+tiCols+` FROM task_instance
		WHERE dag_id = $1 AND task_id = $2 AND run_id = $3 `+lock, k.DagID, k.TaskID, k.RunID))
	return ti, dbErr(err)
}

func (s *Store) GetTaskInstance(ctx context.Context, k store.TIKey) (store.TaskInstance, error) {
	ti, err := getTI(ctx, s.pool, k, "")
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
	w.in("ti.task_id", f.TaskIDs)
	w.in("ti.state", strs(f.States))
	if f.Pool != "" {
		w.add("ti.pool = ?", f.Pool)
	}
	if f.QueuedByJobID != 0 {
		w.add("ti.queued_by_job_id = ?", f.QueuedByJobID)
	}
	return &w
}

// tiOrder is the order a scheduler queues task instances in: priority
// weight (highest first), then runs in creation order, then task ID. It
// needs task_instance as ti joined to dag_run as dr.
const tiOrder = ` ORDER BY ti.priority_weight DESC, dr.id, ti.task_id`

const tiJoinRun = ` FROM task_instance ti
	JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id`

// ListTaskInstances lists in tiOrder; the join to dag_run is for the run
// order.
func (s *Store) ListTaskInstances(ctx context.Context, f store.TIFilter) ([]store.TaskInstance, error) {
	w := tiWhere(f)
	rows, err := s.pool.Query(ctx, `SELECT `+prefixCols("ti.", tiCols)+tiJoinRun+
		w.String()+tiOrder+limit(f.Limit, f.Offset), w.args...)
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
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM task_instance ti`+w.String(), w.args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count task instances: %w", err)
	}
	return n, nil
}

// UpdateTaskInstance is optimistic: it reads the row with its xmin (the
// id of the transaction that wrote this version), applies fn and writes
// only if xmin is unchanged, else reads again. That gives what SELECT …
// FOR UPDATE in a transaction gives (no update slips between fn's check
// and the write) in two round trips instead of four, with no row lock held
// while fn runs; a row this process wrote last needs one (see written).
// Workers do this twice per task. fn may run more than once and cannot
// change the key; UpdatedAt is set here.
func (s *Store) UpdateTaskInstance(ctx context.Context, k store.TIKey, fn func(*store.TaskInstance) error) (store.TaskInstance, error) {
	if last, ok := s.written.take(k); ok {
		// An error (fn's or the write's) is not trusted here: the copy
		// may be stale, so the read below decides.
		if ti, done, err := s.writeTI(ctx, last.ti, last.version, fn); done && err == nil {
			return ti, nil
		}
	}
	for {
		var version uint32
		ti, err := scanTI(versioned{s.pool.QueryRow(ctx, `SELECT `+tiCols+`, xmin FROM task_instance
			WHERE dag_id = $1 AND task_id = $2 AND run_id = $3`, k.DagID, k.TaskID, k.RunID), &version})
		if err != nil {
			return store.TaskInstance{}, wrapUpdate(k, dbErr(err))
		}
		ti, done, err := s.writeTI(ctx, ti, version, fn)
		if done || err != nil {
			return ti, wrapUpdate(k, err)
		}
	}
}

// writeTI applies fn to ti, read at version, and writes the result if the
// row is still at that version; done is false when it is not.
func (s *Store) writeTI(ctx context.Context, ti store.TaskInstance, version uint32, fn func(*store.TaskInstance) error) (store.TaskInstance, bool, error) {
	k := ti.TIKey
	if err := fn(&ti); err != nil {
		return store.TaskInstance{}, false, err
	}
	ti.TIKey, ti.UpdatedAt = k, now()
	normTI(&ti)
	err := s.pool.QueryRow(ctx, updateTI+` AND xmin = $20 RETURNING xmin`, append(tiArgs(ti), version)...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.TaskInstance{}, false, nil
	}
	if err != nil {
		return store.TaskInstance{}, false, dbErr(err)
	}
	s.written.put(ti, version)
	return ti, true, nil
}

func wrapUpdate(k store.TIKey, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("update task instance %s: %w", tiName(k), err)
}

// versioned scans a row whose last column is its xmin into version.
type versioned struct {
	row     pgx.Row
	version *uint32
}

func (v versioned) Scan(dest ...any) error { return v.row.Scan(append(dest, v.version)...) }

// StartTry does store.StartTryFn in one conditional UPDATE … RETURNING
// instead of a read and a write, and remembers the row (see written), so
// the try's finish is one round trip too.
func (s *Store) StartTry(ctx context.Context, k store.TIKey, st store.TryStart) (store.TaskInstance, error) {
	var version uint32
	ti, err := scanTI(versioned{s.pool.QueryRow(ctx, `UPDATE task_instance SET state = $4, try_number = $5,
		start_date = CASE WHEN end_date IS NULL AND start_date IS NOT NULL THEN start_date ELSE $6 END,
		end_date = NULL, next_retry_at = NULL, hostname = $7, pid = $8, updated_at = $9
		WHERE dag_id = $1 AND task_id = $2 AND run_id = $3 AND state = $10 AND try_number = $5 - 1
		RETURNING `+tiCols+`, xmin`, k.DagID, k.TaskID, k.RunID, store.TIRunning, st.Try, dbTime(st.At),
		st.Hostname, st.PID, dbTime(now()), store.TIQueued), &version})
	if errors.Is(err, pgx.ErrNoRows) {
		// Not queued for this try, or gone: say which, as UpdateTaskInstance would.
		if _, gerr := getTI(ctx, s.pool, k, ""); gerr != nil {
			return store.TaskInstance{}, wrapUpdate(k, gerr)
		}
		return store.TaskInstance{}, wrapUpdate(k, store.ErrStateConflict)
	}
	if err != nil {
		return store.TaskInstance{}, wrapUpdate(k, dbErr(err))
	}
	s.written.put(ti, version)
	return ti, nil
}
