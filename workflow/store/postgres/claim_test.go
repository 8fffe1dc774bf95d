package postgres

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
)

func taskIDsOf(tis []store.TaskInstance) []string {
	ids := []string{}
	for _, ti := range tis {
		ids = append(ids, ti.TaskID)
	}
	return ids
}

func etlKeys(tasks ...string) []store.TIKey {
	var keys []store.TIKey
	for _, t := range tasks {
		keys = append(keys, store.TIKey{DagID: "etl", RunID: "r1", TaskID: t})
	}
	return keys
}

// testClaimSkipLocked: a claim passes over the rows another open
// transaction holds instead of waiting for them or taking them, and the
// rows of a transaction that rolls back (a scheduler that died) are
// claimable again.
func testClaimSkipLocked(t *testing.T, srv *testenv.PostgresServer) {
	s := openTest(t, srv.CreateDatabase(t))
	ctx := t.Context()
	var tis []store.TaskInstance
	for i := range 6 {
		tis = append(tis, store.TaskInstance{TIKey: store.TIKey{TaskID: fmt.Sprint("t", i)}, State: store.TIScheduled})
	}
	if _, err := s.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "r1"}, tis); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 1, 2, 3, 456789999, time.UTC)

	txA, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	a, err := claim(ctx, txA, etlKeys("t0", "t1", "t2", "t3"), 1, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(a), []string{"t0", "t1", "t2", "t3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("A claimed %v, want %v", got, want)
	}

	// B wants everything while A still holds its rows: a plain FOR UPDATE
	// would block here until A ends, so a short deadline proves it skips.
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := s.ClaimTaskInstances(bctx, etlKeys("t5", "t3", "t2", "t1", "t0", "t4"), 2, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(b), []string{"t5", "t4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("B claimed %v, want %v (its keys' order, without A's)", got, want)
	}
	if err := txA.Rollback(ctx); err != nil { // A's scheduler died before committing
		t.Fatal(err)
	}
	c, err := s.ClaimTaskInstances(ctx, etlKeys("t0", "t1", "t2", "t3", "t4", "t5"), 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(c), []string{"t0", "t1", "t2", "t3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after A rolled back, C claimed %v, want %v", got, want)
	}
	all, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	byJob := map[string]int64{}
	for _, ti := range all {
		byJob[ti.TaskID+":"+string(ti.State)] = ti.QueuedByJobID
	}
	want := map[string]int64{"t0:queued": 3, "t1:queued": 3, "t2:queued": 3, "t3:queued": 3, "t4:queued": 2, "t5:queued": 2}
	if !reflect.DeepEqual(byJob, want) {
		t.Errorf("task:state → queued by job = %v, want %v", byJob, want)
	}
}

// testClaimConcurrent has eight claimers on two stores (two connection
// pools, as two scheduler processes have) claim 300 scheduled task
// instances in small overlapping batches: every one is claimed exactly
// once, by the claimer the database says queued it.
func testClaimConcurrent(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	stores := []*Store{openTest(t, dsn), openUnmigrated(t, dsn)}
	ctx := t.Context()
	const runs, tasks = 3, 100
	var keys []store.TIKey
	for r := range runs {
		var tis []store.TaskInstance
		for i := range tasks {
			tis = append(tis, store.TaskInstance{TIKey: store.TIKey{TaskID: fmt.Sprintf("t%03d", i)}, State: store.TIScheduled})
			keys = append(keys, store.TIKey{DagID: "etl", RunID: fmt.Sprint("r", r), TaskID: fmt.Sprintf("t%03d", i)})
		}
		if _, err := stores[0].CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: fmt.Sprint("r", r)}, tis); err != nil {
			t.Fatal(err)
		}
	}

	const claimers, batch = 8, 7
	claimed := make([][]store.TaskInstance, claimers)
	errs := make([]error, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range claimers {
		s, job := stores[i%len(stores)], int64(i+1)
		wg.Go(func() {
			<-start
			for off := 0; off < len(keys); off += batch {
				got, err := s.ClaimTaskInstances(ctx, keys[off:min(off+batch, len(keys))], job, time.Now())
				if err != nil {
					errs[i] = err
					return
				}
				claimed[i] = append(claimed[i], got...)
			}
		})
	}
	close(start)
	wg.Wait()

	owner := map[store.TIKey]int64{}
	for i, tis := range claimed {
		if errs[i] != nil {
			t.Errorf("claimer %d: %v", i, errs[i])
		}
		for _, ti := range tis {
			if prev, dup := owner[ti.TIKey]; dup {
				t.Errorf("%v claimed by jobs %d and %d", ti.TIKey, prev, i+1)
			}
			owner[ti.TIKey] = int64(i + 1)
		}
	}
	if len(owner) != runs*tasks {
		t.Errorf("%d task instances claimed, want %d", len(owner), runs*tasks)
	}
	all, err := stores[1].ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range all {
		if ti.State != store.TIQueued || ti.QueuedByJobID != owner[ti.TIKey] {
			t.Errorf("%v is %s by job %d, want queued by job %d", ti.TIKey, ti.State, ti.QueuedByJobID, owner[ti.TIKey])
		}
	}
}
