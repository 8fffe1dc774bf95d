package worker

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// countingStore counts GetDagRun calls.
type countingStore struct {
	store.Store
	reads int
}

func (c *countingStore) GetDagRun(ctx context.Context, dagID, runID string) (store.DagRun, error) {
	c.reads++
	return c.Store.GetDagRun(ctx, dagID, runID)
}

func TestRunCacheReusesOnlyTheSameRunRow(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: db}
	create := func(conf string) store.DagRun {
		t.Helper()
		r, err := db.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "manual", State: store.RunRunning,
			LogicalDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Conf: map[string]any{"v": conf}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := create("first")
	var c runCache
	get := func(rowID int64) store.DagRun {
		t.Helper()
		r, err := c.get(ctx, st, queue.Message{TIKey: store.TIKey{DagID: "etl", RunID: "manual", TaskID: "a"}, RunRowID: rowID})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	get(first.ID)
	get(first.ID)
	if st.reads != 1 {
		t.Fatalf("two tasks of one run read it %d times, want 1", st.reads)
	}
	get(0) // a message without the row id (pushed by lost-task recovery)
	if st.reads != 2 {
		t.Fatalf("a message without a row id used the cache")
	}
	if err := db.DeleteDagRun(ctx, "etl", "manual"); err != nil {
		t.Fatal(err)
	}
	second := create("second")
	if got := get(second.ID); got.Conf["v"] != "second" || st.reads != 3 {
		t.Fatalf("a new run with the same run_id: conf %v after %d reads, want the new run's conf read afresh", got.Conf, st.reads)
	}
}
