package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/store"
)

const dagCols = `dag_id, fileloc, description, schedule_interval, timezone, tags,
	is_paused, is_active, last_parsed_time`

// scanDAG reads tags straight into the slice: pgx unmarshals jsonb and
// leaves a NULL as a nil slice.
func scanDAG(sc scanner) (store.DAG, error) {
	var d store.DAG
	err := sc.Scan(&d.DagID, &d.FileLoc, &d.Description, &d.Schedule, &d.Timezone,
		&d.Tags, &d.IsPaused, &d.IsActive, timeCol{&d.LastParsedAt})
	return d, err
}

// UpsertDAG inserts or updates a DAG; is_paused is left out of the update
// so a user's pause survives re-parsing.
func (s *Store) UpsertDAG(ctx context.Context, d store.DAG) error {
	tags, err := dbJSON(d.Tags)
	if err != nil {
		return fmt.Errorf("upsert dag %s: %w", d.DagID, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO dag (`+dagCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (dag_id) DO UPDATE SET
			fileloc = excluded.fileloc, description = excluded.description,
			schedule_interval = excluded.schedule_interval, timezone = excluded.timezone,
			tags = excluded.tags, is_active = excluded.is_active,
			last_parsed_time = excluded.last_parsed_time`,
		d.DagID, d.FileLoc, d.Description, d.Schedule, d.Timezone, tags,
		d.IsPaused, d.IsActive, dbTime(d.LastParsedAt))
	if err != nil {
		return fmt.Errorf("upsert dag %s: %w", d.DagID, dbErr(err))
	}
	return nil
}

func (s *Store) GetDAG(ctx context.Context, dagID string) (store.DAG, error) {
	d, err := scanDAG(s.pool.QueryRow(ctx, `SELECT `+dagCols+` FROM dag WHERE dag_id = $1`, dagID))
	if err != nil {
		return store.DAG{}, fmt.Errorf("get dag %s: %w", dagID, dbErr(err))
	}
	return d, nil
}

// ListDAGs returns all DAGs, inactive ones too, by ID.
func (s *Store) ListDAGs(ctx context.Context) ([]store.DAG, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dagCols+` FROM dag ORDER BY dag_id`)
	ds, err := scanAll(rows, err, scanDAG)
	if err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	return ds, nil
}

func (s *Store) SetDAGPaused(ctx context.Context, dagID string, paused bool) error {
	if err := s.exec(ctx, `UPDATE dag SET is_paused = $1 WHERE dag_id = $2`, paused, dagID); err != nil {
		return fmt.Errorf("set dag %s paused: %w", dagID, err)
	}
	return nil
}

// DeactivateDAGs passes keep as one array parameter, so any number of DAGs
// makes one statement.
func (s *Store) DeactivateDAGs(ctx context.Context, keep []string) error {
	if keep == nil {
		// pgx sends a nil slice as NULL, and "<> ALL (NULL)" matches nothing.
		keep = []string{}
	}
	_, err := s.pool.Exec(ctx, `UPDATE dag SET is_active = false
		WHERE is_active AND dag_id <> ALL ($1)`, keep)
	if err != nil {
		return fmt.Errorf("deactivate dags: %w", err)
	}
	return nil
}

// ReplaceImportErrors swaps the set in one transaction, so readers never
// see it empty halfway. The inserts go in one batch: one round trip.
func (s *Store) ReplaceImportErrors(ctx context.Context, errs []store.ImportError) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM import_error`)
		for _, e := range errs {
			b.Queue(`INSERT INTO import_error (filename, stacktrace, "timestamp")
				VALUES ($1, $2, $3)`, e.Filename, e.Message, dbTime(e.Timestamp))
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("replace import errors: %w", err)
	}
	return nil
}

func scanImportError(sc scanner) (store.ImportError, error) {
	var e store.ImportError
	err := sc.Scan(&e.Filename, &e.Message, timeCol{&e.Timestamp})
	return e, err
}

// ListImportErrors returns the errors by file name.
func (s *Store) ListImportErrors(ctx context.Context) ([]store.ImportError, error) {
	rows, err := s.pool.Query(ctx, `SELECT filename, stacktrace, "timestamp"
		FROM import_error ORDER BY filename, id`)
	es, err := scanAll(rows, err, scanImportError)
	if err != nil {
		return nil, fmt.Errorf("list import errors: %w", err)
	}
	return es, nil
}
