package postgres

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/storetest"
)

// TestPostgres starts one PostgreSQL server for the package and runs every
// test that needs one as its subtests, each on a database of its own: the
// server is stopped by this test's cleanup, after all of them finished.
// testenv skips it when the PostgreSQL binaries are missing.
func TestPostgres(t *testing.T) {
	srv := testenv.Postgres(t)
	tests := []struct {
		name string
		fn   func(*testing.T, *testenv.PostgresServer)
	}{
		{"Store", testStore},
		{"ReopenKeepsData", testReopenKeepsData},
		{"ConcurrentCASAcrossStores", testConcurrentCASAcrossStores},
		{"UpdateAfterAnotherStoreWrote", testUpdateAfterAnotherStoreWrote},
		{"DuplicateNamesRow", testDuplicateNamesRow},
		{"Migrate/Concurrent", testMigrateConcurrent},
		{"Migrate/WaitsForLock", testMigrateWaitsForLock},
		{"Claim/SkipLocked", testClaimSkipLocked},
		{"Claim/Concurrent", testClaimConcurrent},
		{"CloudSQL/DialPath", testCloudSQLDialPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, srv)
		})
	}
}

// openTest opens and migrates a store on dsn, closed when t ends (before
// CreateDatabase's cleanup drops the database).
func openTest(t testing.TB, dsn string) *Store {
	t.Helper()
	s := openUnmigrated(t, dsn)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openUnmigrated(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func testStore(t *testing.T, srv *testenv.PostgresServer) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, srv.CreateDatabase(t))
	})
}

func testReopenKeepsData(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVariable(t.Context(), store.Variable{Key: "k", Value: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dsn) // migrates again: a no-op
	v, err := s.GetVariable(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if v.Value != "v" {
		t.Errorf("value after reopen = %q, want v", v.Value)
	}
}

// testConcurrentCASAcrossStores is storetest's concurrent CAS with the
// contenders spread over four stores, as over four processes: 20 workers
// try queued → running at once and exactly one wins.
func testConcurrentCASAcrossStores(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	stores := []*Store{openTest(t, dsn)}
	for range 3 {
		stores = append(stores, openUnmigrated(t, dsn))
	}
	ctx := t.Context()
	tis := []store.TaskInstance{{TIKey: store.TIKey{TaskID: "a"}, State: store.TIQueued}}
	if _, err := stores[0].CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "r1"}, tis); err != nil {
		t.Fatal(err)
	}
	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}

	const n = 20
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			_, errs[i] = s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
				if ti.State != store.TIQueued {
					return fmt.Errorf("task is %s: %w", ti.State, store.ErrStateConflict)
				}
				ti.State, ti.Hostname, ti.TryNumber = store.TIRunning, fmt.Sprint("w", i), ti.TryNumber+1
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrStateConflict):
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no worker won")
	}
	got, err := stores[1].GetTaskInstance(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.TIRunning || got.Hostname != fmt.Sprint("w", winner) || got.TryNumber != 1 {
		t.Errorf("task instance = %s on %s try %d, want running on w%d try 1", got.State, got.Hostname, got.TryNumber, winner)
	}
}

// testDuplicateNamesRow checks a unique violation is ErrAlreadyExists and
// says which key collided, from Postgres's detail.
func testDuplicateNamesRow(t *testing.T, srv *testenv.PostgresServer) {
	s := openTest(t, srv.CreateDatabase(t))
	ctx := t.Context()
	run := store.DagRun{DagID: "etl", RunID: "r1"}
	if _, err := s.CreateDagRun(ctx, run, nil); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateDagRun(ctx, run, nil)
	if !errors.Is(err, store.ErrAlreadyExists) || !strings.Contains(err.Error(), "(dag_id, run_id)=(etl, r1)") {
		t.Errorf("duplicate run: %v, want ErrAlreadyExists naming (dag_id, run_id)=(etl, r1)", err)
	}
	_, err = s.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "r2"}, []store.TaskInstance{
		{TIKey: store.TIKey{TaskID: "a"}}, {TIKey: store.TIKey{TaskID: "a"}}})
	if !errors.Is(err, store.ErrAlreadyExists) || !strings.Contains(err.Error(), "task a") {
		t.Errorf("duplicate task: %v, want ErrAlreadyExists naming task a", err)
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "ada"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateUser(ctx, store.User{Username: "ada"})
	if !errors.Is(err, store.ErrAlreadyExists) || !strings.Contains(err.Error(), "(username)=(ada)") {
		t.Errorf("duplicate user: %v, want ErrAlreadyExists naming (username)=(ada)", err)
	}
}

// testUpdateAfterAnotherStoreWrote: a store's second update of a row starts
// from the copy it wrote (see written); when another process changed the
// row in between, fn must still see that change, not the copy.
func testUpdateAfterAnotherStoreWrote(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	worker, other := openTest(t, dsn), openUnmigrated(t, dsn)
	ctx := t.Context()
	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}
	tis := []store.TaskInstance{{TIKey: store.TIKey{TaskID: "a"}, State: store.TIQueued}}
	if _, err := worker.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "r1"}, tis); err != nil {
		t.Fatal(err)
	}
	set := func(s *Store, state store.TIState, host string) {
		t.Helper()
		if _, err := s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
			ti.State, ti.Hostname = state, host
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	set(worker, store.TIRunning, "worker")
	if _, ok := worker.written.take(k); !ok {
		t.Fatal("the store did not remember the row it wrote")
	}
	set(worker, store.TIRunning, "worker") // remembered again
	set(other, store.TIFailed, "other")    // e.g. marked failed from the UI
	got, err := worker.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
		if ti.State != store.TIFailed || ti.Hostname != "other" {
			return fmt.Errorf("fn saw state %s from %q, not the other store's write", ti.State, ti.Hostname)
		}
		ti.PID = 42
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.TIFailed || got.PID != 42 {
		t.Errorf("after the update: %+v", got)
	}
}
