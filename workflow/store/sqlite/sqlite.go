// Package sqlite is the embedded implementation of store.Store, on a single
// SQLite file through the pure-Go modernc.org/sqlite driver.
//
// Concurrency model: SQLite allows one writer at a time per file. Letting
// several pooled connections write would make them race for the file lock
// and, whenever a deferred transaction has to upgrade from a read to a write
// lock after another connection committed, fail with SQLITE_BUSY at once,
// which busy_timeout cannot retry. So the Store keeps two pools:
//
//   - w, exactly one connection, for every write. Writers queue inside
//     database/sql for that connection instead of fighting over the file
//     lock, and its transactions start with BEGIN IMMEDIATE (_txlock), so
//     the write lock is taken up front, where busy_timeout applies if another
//     process (an aird CLI command, a backup) holds it.
//   - r, a small pool of query_only connections for reads. In WAL mode
//     readers see the last committed state and never block, nor are blocked
//     by, the writer, so web handlers keep answering while the scheduler
//     writes.
//
// A commit on w is visible to the next statement on any r connection, so
// callers read their own writes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/airctl/airctl/workflow/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// busy_timeout only matters when another process holds the lock; ours
	// never contend for it (see the package comment).
	commonParams = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	// WAL is persistent in the file, so setting it on the writer, which
	// connects first, is enough. synchronous=NORMAL is durable against
	// crashes of the process in WAL mode and skips an fsync per commit.
	writeParams = commonParams + "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	readParams  = commonParams + "&_pragma=query_only(ON)"
)

// Store implements store.Store on SQLite. It is safe for concurrent use.
type Store struct {
	w    *sql.DB // one connection: all writes
	r    *sql.DB // read-only pool
	path string
	// critical serializes Critical: one process runs a scheduler on a
	// SQLite database, so an in-process lock is the whole section.
	critical sync.Mutex
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. Call Migrate
// before use.
func Open(ctx context.Context, path string) (*Store, error) {
	// A file: URI with an escaped path, so a '?' or '#' in path is not
	// taken for the start of the parameters.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?"
	w, err := openDB(ctx, dsn+writeParams, 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openDB(ctx, dsn+readParams, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	return &Store{w: w, r: r, path: path}, nil
}

// openDB opens a pool of n connections and connects once, so a bad path or
// pragma fails here and WAL is on before the read pool connects.
func openDB(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	var db *sql.DB
	var err error
	// Switching a brand-new file to WAL while another process creates its
	// tables can report SQLITE_BUSY without calling the busy handler, so
	// connecting is retried for as long as busy_timeout would wait.
	for delay, waited := 20*time.Millisecond, time.Duration(0); ; delay, waited = min(delay*2, time.Second), waited+delay {
		db, err = connect(ctx, dsn, n)
		if err == nil || !isBusy(err) || waited > 10*time.Second {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

func connect(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// Idle connections are kept: reconnecting means re-running the pragmas.
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Migrate applies the pending migrations of the migrations directory.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Migrations run on the write connection, so they queue behind
	// in-flight writes instead of failing on the lock. Go migrations
	// registered globally by other packages are not ours.
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Another process (a CLI command started next to `aird standalone`)
	// may migrate the same file at the same moment; goose has no lock for
	// SQLite, so an OS lock on a side file serialises the two.
	unlock, err := lockFile(ctx, s.path+".migrate-lock")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer unlock()
	// p.Close would close s.w, so it is not called.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the single write
// connection) and commits if fn succeeds. fn must not call the Store: the
// connection it would need is the one it holds.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // no-op after Commit; also covers a panic in fn
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// read runs fn in a read transaction, for reads that need one snapshot.
func (s *Store) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// exec runs one write statement and fails with store.ErrNotFound if it
// touched no row.
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// dbErr maps driver errors to the store's sentinel errors so callers can
// use errors.Is; the driver's text is kept as it names the constraint.
func dbErr(err error) error {
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
		se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
	}
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanAll collects the rows of a query with scan, one per row type.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
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
