package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/airctl/airctl/workflow/store"
)

// SetTaskOutput upserts the output; the foreign key to task_instance turns
// an unknown task instance into store.ErrNotFound.
func (s *Store) SetTaskOutput(ctx context.Context, k store.TIKey, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO task_output (dag_id, task_id, run_id, value, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (dag_id, run_id, task_id) DO UPDATE SET value = excluded.value,
			updated_at = excluded.updated_at`,
		k.DagID, k.TaskID, k.RunID, value, dbTime(now()))
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		err = fmt.Errorf("%w: no such task instance", store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set output of task instance %s: %w", tiName(k), err)
	}
	return nil
}

func (s *Store) GetTaskOutputs(ctx context.Context, dagID, runID string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT task_id, value FROM task_output
		WHERE dag_id = ? AND run_id = ?`, dagID, runID)
	pairs, err := scanAll(rows, err, func(sc scanner) ([2]string, error) {
		var p [2]string
		return p, sc.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, fmt.Errorf("get task outputs of %s/%s: %w", dagID, runID, err)
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		out[p[0]] = p[1]
	}
	return out, nil
}

const slaCols = `dag_id, task_id, run_id, execution_date, deadline, timestamp, notification_sent`

func scanSLAMiss(sc scanner) (store.SLAMiss, error) {
	var m store.SLAMiss
	err := sc.Scan(&m.DagID, &m.TaskID, &m.RunID, timeCol{&m.LogicalDate}, timeCol{&m.Deadline},
		timeCol{&m.DetectedAt}, &m.Notified)
	return m, err
}

// RecordSLAMiss inserts the miss unless its key exists; a zero DetectedAt
// means now.
func (s *Store) RecordSLAMiss(ctx context.Context, m store.SLAMiss) (bool, error) {
	if m.DetectedAt.IsZero() {
		m.DetectedAt = now()
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO sla_miss (`+slaCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dag_id, task_id, run_id) DO NOTHING`,
		m.DagID, m.TaskID, m.RunID, dbTime(m.LogicalDate), dbTime(m.Deadline), dbTime(m.DetectedAt), m.Notified)
	if err != nil {
		return false, fmt.Errorf("record sla miss %s/%s/%s: %w", m.DagID, m.RunID, m.TaskID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record sla miss %s/%s/%s: %w", m.DagID, m.RunID, m.TaskID, err)
	}
	return n == 1, nil
}

func (s *Store) MarkSLAMissNotified(ctx context.Context, dagID, taskID, runID string) error {
	err := s.exec(ctx, `UPDATE sla_miss SET notification_sent = 1
		WHERE dag_id = ? AND task_id = ? AND run_id = ?`, dagID, taskID, runID)
	if err != nil {
		return fmt.Errorf("mark sla miss %s/%s/%s notified: %w", dagID, runID, taskID, err)
	}
	return nil
}

// ListSLAMisses counts and pages in one read transaction, so the total
// matches the page.
func (s *Store) ListSLAMisses(ctx context.Context, f store.SLAMissFilter) ([]store.SLAMiss, int, error) {
	var w where
	if f.DagID != "" {
		w.add("dag_id = ?", f.DagID)
	}
	var misses []store.SLAMiss
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sla_miss`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+slaCols+` FROM sla_miss`+w.String()+
			` ORDER BY timestamp DESC, dag_id, task_id, run_id`+limit(f.Limit, f.Offset), w.args...)
		misses, err = scanAll(rows, err, scanSLAMiss)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list sla misses: %w", err)
	}
	return misses, total, nil
}
