package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

const jobCols = `id, job_type, state, hostname, pid, name, start_date, end_date, latest_heartbeat`

func scanJob(sc scanner) (store.Job, error) {
	var j store.Job
	err := sc.Scan(&j.ID, &j.JobType, &j.State, &j.Hostname, &j.PID, &j.Name,
		timeCol{&j.StartDate}, timeCol{&j.EndDate}, timeCol{&j.LatestHeartbeat})
	return j, err
}

// StartJob inserts j and returns it with its ID. A zero StartDate becomes
// now and a zero LatestHeartbeat the start date, so a new job is never
// taken for a dead one.
func (s *Store) StartJob(ctx context.Context, j store.Job) (store.Job, error) {
	if j.StartDate.IsZero() {
		j.StartDate = time.Now()
	}
	if j.LatestHeartbeat.IsZero() {
		j.LatestHeartbeat = j.StartDate
	}
	j.StartDate, j.EndDate, j.LatestHeartbeat = utc(j.StartDate), utc(j.EndDate), utc(j.LatestHeartbeat)
	err := s.pool.QueryRow(ctx, `INSERT INTO job (job_type, state, hostname, pid, name, start_date,
		end_date, latest_heartbeat) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, j.JobType,
		j.State, j.Hostname, j.PID, j.Name, dbTime(j.StartDate), dbTime(j.EndDate), dbTime(j.LatestHeartbeat)).Scan(&j.ID)
	if err != nil {
		return store.Job{}, fmt.Errorf("start %s job: %w", j.JobType, err)
	}
	return j, nil
}

func (s *Store) HeartbeatJob(ctx context.Context, id int64, at time.Time) error {
	if err := s.exec(ctx, `UPDATE job SET latest_heartbeat = $1 WHERE id = $2`, dbTime(at), id); err != nil {
		return fmt.Errorf("heartbeat job %d: %w", id, err)
	}
	return nil
}

func (s *Store) EndJob(ctx context.Context, id int64, state string, at time.Time) error {
	if err := s.exec(ctx, `UPDATE job SET state = $1, end_date = $2 WHERE id = $3`, state, dbTime(at), id); err != nil {
		return fmt.Errorf("end job %d: %w", id, err)
	}
	return nil
}

func (s *Store) GetJob(ctx context.Context, id int64) (store.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobCols+` FROM job WHERE id = $1`, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("get job %d: %w", id, dbErr(err))
	}
	return j, nil
}

// LatestJob breaks heartbeat ties by the newest job. A job without a
// heartbeat comes last, as in SQLite (Postgres puts NULLs first in
// descending order by default).
func (s *Store) LatestJob(ctx context.Context, jobType string) (store.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobCols+` FROM job WHERE job_type = $1
		ORDER BY latest_heartbeat DESC NULLS LAST, id DESC LIMIT 1`, jobType))
	if err != nil {
		return store.Job{}, fmt.Errorf("latest %s job: %w", jobType, dbErr(err))
	}
	return j, nil
}

// ListJobs returns every job of that type, newest first.
func (s *Store) ListJobs(ctx context.Context, jobType string) ([]store.Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobCols+` FROM job WHERE job_type = $1 ORDER BY id DESC`, jobType)
	js, err := scanAll(rows, err, scanJob)
	if err != nil {
		return nil, fmt.Errorf("list %s jobs: %w", jobType, err)
	}
	return js, nil
}

// AddEvent records e; a zero When becomes now. e.ID is ignored.
func (s *Store) AddEvent(ctx context.Context, e store.Event) error {
	if e.When.IsZero() {
		e.When = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO event_log (dttm, event, dag_id, run_id, task_id,
		owner, extra) VALUES ($1, $2, $3, $4, $5, $6, $7)`, dbTime(e.When), e.Event, e.DagID, e.RunID,
		e.TaskID, e.Owner, e.Extra)
	if err != nil {
		return fmt.Errorf("add event %s: %w", e.Event, err)
	}
	return nil
}

func scanEvent(sc scanner) (store.Event, error) {
	var e store.Event
	err := sc.Scan(&e.ID, timeCol{&e.When}, &e.Event, &e.DagID, &e.RunID, &e.TaskID, &e.Owner, &e.Extra)
	return e, err
}

// ListEvents returns the newest events first; events at the same time come
// newest-inserted first. dttm is never NULL (AddEvent fills it in), so the
// NULL order, which differs from SQLite's, does not matter, and the plain
// DESC reads idx_log_* backwards.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var w where
	if f.DagID != "" {
		w.add("dag_id = ?", f.DagID)
	}
	if f.Event != "" {
		w.add("event = ?", f.Event)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, dttm, event, dag_id, run_id, task_id, owner, extra
		FROM event_log`+w.String()+` ORDER BY dttm DESC, id DESC`+limit(f.Limit, 0), w.args...)
	es, err := scanAll(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return es, nil
}
