// Package postgres is the server implementation of store.Store, on
// PostgreSQL through pgx (github.com/jackc/pgx/v5), for deployments where
// several aird processes (schedulers, workers, webservers) share one
// database, such as Cloud SQL.
//
// Concurrency model: every method takes a connection from one pgxpool per
// Store, so any number of goroutines (and processes) work at once and
// Postgres's row locks order the writes. The read-modify-write updates make
// sure a compare-and-set in fn never acts on a stale row: UpdateDagRun reads
// the row with SELECT … FOR UPDATE in a READ COMMITTED transaction, and the
// hotter UpdateTaskInstance writes only if the row's version (xmin) is still
// the one fn saw.
//
// Pool: pgxpool's defaults (at most max(4, CPUs) connections, idle ones
// closed after 30 minutes, all recycled after an hour) suit one aird process;
// pool_max_conns and the other pool_* settings in the DSN override them. A
// small Cloud SQL tier allows few connections (25 on db-f1-micro), so keep
// the sum over all processes under the server's max_connections.
//
// A DSN whose host is a Cloud SQL instance connection name
// (project:region:instance) connects through the Cloud SQL Go connector; see
// cloudsql.go.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/airctl/airctl/workflow/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the session advisory lock Migrate holds. Advisory
// locks are per database, so goose's default ID only ever contends with
// other migrators of this same database, which is the point.
const migrationLockID = lock.DefaultLockID

// Store implements store.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	dialer cloudSQLDialer // nil unless connecting through the Cloud SQL connector
	// critical lets one caller per process into Critical, so waiters do
	// not take every pooled connection from the holder's fn.
	critical sync.Mutex
	written  written
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn, a postgres:// URL or a
// keyword/value string as libpq takes (see pgconn.ParseConfig). Call Migrate
// before use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return open(ctx, dsn, newCloudSQLDialer)
}

// open is Open with the Cloud SQL dialer factory as a parameter, so tests
// can route the connector path to a local server.
func open(ctx context.Context, dsn string, newDialer dialerFactory) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors already hide the password.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	name := cfg.ConnConfig.Host + "/" + cfg.ConnConfig.Database
	target, err := cloudSQLTargetOf(cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	s := &Store{}
	if target != nil {
		if s.dialer, err = newDialer(ctx, target); err != nil {
			return nil, fmt.Errorf("open postgres %s: cloud sql connector: %w", name, err)
		}
		dialThrough(cfg.ConnConfig, s.dialer, target)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		s.closeDialer()
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	// The pool connects lazily; a bad address or password fails here
	// instead of at the first query.
	if err := s.pool.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	return s, nil
}

// Close closes the pool, waiting for connections in use to be returned,
// then the Cloud SQL dialer.
func (s *Store) Close() error {
	s.pool.Close()
	return s.closeDialer()
}

func (s *Store) closeDialer() error {
	if s.dialer == nil {
		return nil
	}
	if err := s.dialer.Close(); err != nil {
		return fmt.Errorf("close cloud sql connector: %w", err)
	}
	return nil
}

// Migrate applies the pending migrations of the migrations directory.
//
// goose holds a session advisory lock on its connection while it lists
// the applied versions and applies the missing ones, so when several
// processes start at once (two schedulers, a deploy running `aird db
// migrate`) one migrates and the others wait, then find nothing to do. The
// lock is tried every second for up to five minutes, or until ctx ends.
// Before locking, goose checks for pending migrations without the lock, so
// an up-to-date database costs no wait; that check creates goose's own
// version table if missing, which is idempotent and retried if two
// processes race to create it.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// goose speaks database/sql; this *sql.DB borrows connections from the
	// pool (so the Cloud SQL dialer applies too) and closing it leaves the
	// pool open.
	db := stdlib.OpenDBFromPool(s.pool)
	// Go migrations registered globally by other packages are not ours.
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		db.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	_, err = p.Up(ctx)
	if cerr := p.Close(); err == nil && cerr != nil { // closes db
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// write runs fn in a READ COMMITTED transaction and commits if fn
// succeeds; an error from fn (or a panic) rolls back.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// read runs fn in a read-only REPEATABLE READ transaction, for reads that
// need one snapshot (a count and the page it describes).
func (s *Store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// exec runs one write statement and fails with store.ErrNotFound if it
// touched no row.
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// pgUniqueViolation is SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

// dbErr maps driver errors to the store's sentinel errors so callers can
// use errors.Is. For a duplicate, Postgres's detail names the row
// ("Key (dag_id, run_id)=(etl, r1) already exists.").
func dbErr(err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case errors.As(err, &pe) && pe.Code == pgUniqueViolation:
		return fmt.Errorf("%w: %s (%s)", store.ErrAlreadyExists, pe.Detail, pe.ConstraintName)
	}
	return err
}

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanAll collects the rows of a query with scan, one per row type.
func scanAll[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
