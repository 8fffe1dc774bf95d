package postgres

import (
	"io/fs"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/airctl/airctl/internal/testenv"
)

// testMigrateConcurrent runs Migrate from four stores (four pools, as four
// processes) at once, and checks one set of tables results:
//   - on a fresh database;
//   - on one where goose's version table already exists and our migrations
//     are pending, as when a deploy adds a migration. All four then see
//     pending migrations at once and only the lock keeps them from applying
//     them together (in the fresh case goose's race to create its version
//     table often staggers them anyway, so that case alone proves little).
func testMigrateConcurrent(t *testing.T, srv *testenv.PostgresServer) {
	t.Run("FreshDatabase", func(t *testing.T) {
		migrateConcurrently(t, srv.CreateDatabase(t))
	})
	t.Run("VersionTableExists", func(t *testing.T) {
		dsn := srv.CreateDatabase(t)
		s := openUnmigrated(t, dsn)
		fsys, err := fs.Sub(migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(s.pool), fsys,
			goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if v, err := p.GetDBVersion(t.Context()); err != nil || v != 0 { // creates the version table
			t.Fatalf("GetDBVersion = %d, %v; want 0", v, err)
		}
		migrateConcurrently(t, dsn)
	})
}

func migrateConcurrently(t *testing.T, dsn string) {
	ctx := t.Context()
	var stores []*Store
	for range 4 {
		stores = append(stores, openUnmigrated(t, dsn))
	}
	start := make(chan struct{})
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}

	// One set of tables: each version recorded once, the seed row once.
	rows, err := stores[0].pool.Query(ctx, `SELECT version_id, count(*) FROM goose_db_version
		GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ V, N int64 }])
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ V, N int64 }{{0, 1}} // goose's seed row
	for i := range files {
		want = append(want, struct{ V, N int64 }{int64(i + 1), 1})
	}
	if !reflect.DeepEqual(versions, want) {
		t.Errorf("goose_db_version (version, count) = %v, want %v", versions, want)
	}
	var tables, pools int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 13 { // 12 of ours and goose_db_version
		t.Errorf("%d tables, want 13", tables)
	}
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM slot_pool`).Scan(&pools); err != nil {
		t.Fatal(err)
	}
	if pools != 1 {
		t.Errorf("%d pools, want the default pool once", pools)
	}
}

// testMigrateWaitsForLock holds the migration lock from another session and
// checks Migrate waits for it before touching the schema, then proceeds.
func testMigrateWaitsForLock(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	ctx := t.Context()
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		t.Fatal(err)
	}

	s := openUnmigrated(t, dsn)
	done := make(chan error, 1)
	go func() { done <- s.Migrate(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Migrate returned %v while another session held the lock", err)
	case <-time.After(1500 * time.Millisecond): // the locker retries every second
	}
	// goose creates its own version table before locking (see Migrate);
	// our schema must wait for the lock.
	var dagTable *string
	if err := holder.QueryRow(ctx, `SELECT to_regclass('public.dag')::text`).Scan(&dagTable); err != nil {
		t.Fatal(err)
	}
	if dagTable != nil {
		t.Error("Migrate created the schema while another session held the lock")
	}

	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Migrate did not finish after the lock was released")
	}
	if _, err := s.GetPool(ctx, "default_pool"); err != nil {
		t.Errorf("after Migrate: %v", err)
	}
}
