package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/store"
)

// runCols are in the order of runArgs; id comes last as it is never
// written.
const runCols = `dag_id, run_id, run_type, state, logical_date, data_interval_start,
	data_interval_end, conf, external_trigger, queued_at, start_date, end_date, updated_at, id`

const insertRun = `INSERT INTO dag_run (dag_id, run_id, run_type, state, logical_date,
	data_interval_start, data_interval_end, conf, external_trigger, queued_at, start_date,
	end_date, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	RETURNING id`

// updateRun takes runArgs: the key is $1, $2.
const updateRun = `UPDATE dag_run SET run_type = $3, state = $4, logical_date = $5,
	data_interval_start = $6, data_interval_end = $7, conf = $8, external_trigger = $9,
	queued_at = $10, start_date = $11, end_date = $12, updated_at = $13
	WHERE dag_id = $1 AND run_id = $2`

// scanRun reads conf straight into the map: pgx unmarshals jsonb (numbers
// as float64, as encoding/json does) and leaves a NULL as a nil map.
func scanRun(sc scanner) (store.DagRun, error) {
	var r store.DagRun
	var updated time.Time // not part of store.DagRun
	err := sc.Scan(&r.DagID, &r.RunID, &r.RunType, &r.State, timeCol{&r.LogicalDate},
		timeCol{&r.DataIntervalStart}, timeCol{&r.DataIntervalEnd}, &r.Conf,
		&r.ExternalTrigger, timeCol{&r.QueuedAt}, timeCol{&r.StartDate}, timeCol{&r.EndDate},
		timeCol{&updated}, &r.ID)
	return r, err
}

// runArgs are the column values of r, in runCols order without id.
func runArgs(r store.DagRun) ([]any, error) {
	conf, err := dbJSON(r.Conf)
	if err != nil {
		return nil, fmt.Errorf("conf: %w", err)
	}
	return []any{r.DagID, r.RunID, r.RunType, r.State, dbTime(r.LogicalDate),
		dbTime(r.DataIntervalStart), dbTime(r.DataIntervalEnd), conf, r.ExternalTrigger,
		dbTime(r.QueuedAt), dbTime(r.StartDate), dbTime(r.EndDate), dbTime(now())}, nil
}

// normRun makes r's times what reading it back would give.
func normRun(r *store.DagRun) {
	for _, t := range []*time.Time{&r.LogicalDate, &r.DataIntervalStart, &r.DataIntervalEnd,
		&r.QueuedAt, &r.StartDate, &r.EndDate} {
		*t = utc(*t)
	}
}

// CreateDagRun inserts the run and its task instances in one transaction.
// The task instances get the run's DagID and RunID.
func (s *Store) CreateDagRun(ctx context.Context, run store.DagRun, tis []store.TaskInstance) (store.DagRun, error) {
	normRun(&run)
	err := s.write(ctx, func(tx pgx.Tx) error {
		args, err := runArgs(run)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, insertRun, args...).Scan(&run.ID); err != nil {
			return dbErr(err)
		}
		return insertTIs(ctx, tx, run, tis)
	})
	if err != nil {
		return store.DagRun{}, fmt.Errorf("create dag run %s/%s: %w", run.DagID, run.RunID, err)
	}
	return run, nil
}

// insertTIs sends the inserts as one batch, so a DAG of hundreds of tasks
// costs one round trip; the first failure names its task.
func insertTIs(ctx context.Context, tx pgx.Tx, run store.DagRun, tis []store.TaskInstance) error {
	if len(tis) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	updated := now()
	for _, ti := range tis {
		ti.DagID, ti.RunID, ti.UpdatedAt = run.DagID, run.RunID, updated
		b.Queue(insertTI, tiArgs(ti)...)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for _, ti := range tis {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("task %s: %w", ti.TaskID, dbErr(err))
		}
	}
	return br.Close()
}

func (s *Store) GetDagRun(ctx context.Context, dagID, runID string) (store.DagRun, error) {
	r, err := getRun(ctx, s.pool, dagID, runID, "")
	if err != nil {
		return store.DagRun{}, fmt.Errorf("get dag run %s/%s: %w", dagID, runID, err)
	}
	return r, nil
}

// getRun reads one run; lock is "" or a locking clause such as FOR UPDATE.
func getRun(ctx context.Context, q querier, dagID, runID, lock string) (store.DagRun, error) {
	r, err := scanRun(q.QueryRow(ctx, `SELECT `+runCols+` FROM dag_run
		WHERE dag_id = $1 AND run_id = $2 `+lock, dagID, runID))
	return r, dbErr(err)
}

// ListDagRuns counts and pages in one snapshot, so the total matches the
// page. NULL logical dates sort as in SQLite: first, last when descending.
func (s *Store) ListDagRuns(ctx context.Context, f store.DagRunFilter) ([]store.DagRun, int, error) {
	var w where
	if f.DagID != "" {
		w.add("dag_id = ?", f.DagID)
	}
	w.in("state", strs(f.States))
	w.in("run_type", strs(f.RunTypes))
	if !f.LogicalDateFrom.IsZero() {
		w.add("logical_date >= ?", dbTime(f.LogicalDateFrom))
	}
	if !f.LogicalDateTo.IsZero() {
		w.add("logical_date <= ?", dbTime(f.LogicalDateTo))
	}
	order := " ORDER BY logical_date NULLS FIRST, id"
	if f.Desc {
		order = " ORDER BY logical_date DESC NULLS LAST, id DESC"
	}
	var runs []store.DagRun
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM dag_run`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+runCols+` FROM dag_run`+w.String()+order+limit(f.Limit, f.Offset), w.args...)
		runs, err = scanAll(rows, err, scanRun)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list dag runs: %w", err)
	}
	return runs, total, nil
}

// UpdateDagRun locks the row (SELECT … FOR UPDATE), applies fn and writes
// the result in one transaction, so concurrent updates of a run apply one
// after the other, each seeing the last. fn cannot change the run's
// identity (ID, DagID, RunID).
func (s *Store) UpdateDagRun(ctx context.Context, dagID, runID string, fn func(*store.DagRun) error) (store.DagRun, error) {
	var r store.DagRun
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = getRun(ctx, tx, dagID, runID, "FOR UPDATE"); err != nil {
			return err
		}
		id := r.ID
		if err := fn(&r); err != nil {
			return err
		}
		r.ID, r.DagID, r.RunID = id, dagID, runID
		normRun(&r)
		args, err := runArgs(r)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, updateRun, args...)
		return dbErr(err)
	})
	if err != nil {
		return store.DagRun{}, fmt.Errorf("update dag run %s/%s: %w", dagID, runID, err)
	}
	return r, nil
}

// DeleteDagRun deletes the run; its task instances go by ON DELETE CASCADE.
func (s *Store) DeleteDagRun(ctx context.Context, dagID, runID string) error {
	if err := s.exec(ctx, `DELETE FROM dag_run WHERE dag_id = $1 AND run_id = $2`, dagID, runID); err != nil {
		return fmt.Errorf("delete dag run %s/%s: %w", dagID, runID, err)
	}
	return nil
}
