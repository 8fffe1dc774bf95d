package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/storetest"
)

// openTest opens and migrates a store on a fresh file.
func openTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "aird.db"))
	})
}

func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "aird.db"))
	for _, db := range []struct {
		name string
		q    querier
		want map[string]string
	}{
		{"write", s.w, map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"}},
		{"read", s.r, map[string]string{"journal_mode": "wal", "foreign_keys": "1", "query_only": "1", "busy_timeout": "10000"}},
	} {
		for pragma, want := range db.want {
			var got string
			if err := db.q.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if strings.ToLower(got) != want {
				t.Errorf("%s connection: %s = %s, want %s", db.name, pragma, got, want)
			}
		}
	}
	// The read pool cannot write by mistake.
	if _, err := s.r.ExecContext(t.Context(), `DELETE FROM variable`); err == nil {
		t.Error("the read pool wrote")
	}
}

func TestReopenKeepsData(t *testing.T) {
	// Characters that would end the path in a URI or DSN.
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag", "aird.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
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

	s = openTest(t, path) // migrates again: a no-op
	v, err := s.GetVariable(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if v.Value != "v" {
		t.Errorf("value after reopen = %q, want v", v.Value)
	}
}

// TestConcurrentWriters checks no SQLITE_BUSY reaches callers: 8 executors
// update their own task instances while readers list them.
func TestConcurrentWriters(t *testing.T) {
	const workers, updates = 8, 200
	s := openTest(t, filepath.Join(t.TempDir(), "aird.db"))
	ctx := t.Context()
	var tasks []string
	for i := range workers {
		tasks = append(tasks, fmt.Sprint("t", i))
	}
	tis := make([]store.TaskInstance, workers)
	for i := range tis {
		tis[i].TaskID = tasks[i]
	}
	if _, err := s.CreateDagRun(ctx, store.DagRun{DagID: "d", RunID: "r", State: store.RunRunning}, tis); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for i := range workers {
		k := store.TIKey{DagID: "d", RunID: "r", TaskID: tasks[i]}
		wg.Go(func() {
			for range updates {
				_, err := s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
					ti.TryNumber++
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() { // a web handler polling
			for range updates / 10 {
				if _, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "d"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range got {
		if ti.TryNumber != updates {
			t.Errorf("%s: TryNumber = %d, want %d", ti.TaskID, ti.TryNumber, updates)
		}
	}
}

// TestTwoProcesses checks that a second Store on the same file (as an aird
// CLI command next to the scheduler) waits for the lock instead of failing.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aird.db")
	a := openTest(t, path)
	b := openTest(t, path)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range 100 {
				v := store.Variable{Key: fmt.Sprint("k", i, "-", j)}
				if err := s.SetVariable(t.Context(), v); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	vs, err := a.ListVariables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 200 {
		t.Errorf("%d variables, want 200", len(vs))
	}
}

func BenchmarkUpdateTaskInstance(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "aird.db"))
	ctx := b.Context()
	tis := []store.TaskInstance{{TIKey: store.TIKey{TaskID: "t"}}}
	if _, err := s.CreateDagRun(ctx, store.DagRun{DagID: "d", RunID: "r"}, tis); err != nil {
		b.Fatal(err)
	}
	k := store.TIKey{DagID: "d", RunID: "r", TaskID: "t"}
	for b.Loop() {
		_, err := s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
			ti.TryNumber++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentMigrateSameFile is `aird standalone` and a CLI command
// starting together on a new database: both migrate, neither fails.
func TestConcurrentMigrateSameFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aird.db")
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			st, err := Open(ctx, path)
			if err == nil {
				err = st.Migrate(ctx)
				st.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent open+migrate: %v", err)
		}
	}
}
