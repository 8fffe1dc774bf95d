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

// testClaimSkipLocked opens claiming transactions side by side: the second
// skips the rows the first holds instead of waiting or taking them, and the
// rows of a transaction that rolls back (a scheduler that died) are
// claimable again.
func testClaimSkipLocked(t *testing.T, srv *testenv.PostgresServer) {
	s := openTest(t, srv.CreateDatabase(t))
	ctx := t.Context()
	var tis []store.TaskInstance
	for i := range 6 { // t0 has the highest priority, t5 the lowest
		tis = append(tis, store.TaskInstance{TIKey: store.TIKey{TaskID: fmt.Sprint("t", i)},
			State: store.TIScheduled, PriorityWeight: 10 - i})
	}
	tis = append(tis,
		store.TaskInstance{TIKey: store.TIKey{TaskID: "queued"}, State: store.TIQueued, PriorityWeight: 99},
		store.TaskInstance{TIKey: store.TIKey{TaskID: "none"}, PriorityWeight: 99})
	if _, err := s.CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: "r1"}, tis); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 1, 2, 3, 456789999, time.UTC)

	txA, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	a, err := claimScheduled(ctx, txA, 4, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(a), []string{"t0", "t1", "t2", "t3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("A claimed %v, want %v", got, want)
	}
	for _, ti := range a {
		if ti.State != store.TIQueued || ti.QueuedByJobID != 1 || !ti.QueuedAt.Equal(utc(at)) || ti.DagID != "etl" || ti.RunID != "r1" {
			t.Errorf("A's claimed %+v: want queued by job 1 at %v", ti, utc(at))
		}
	}

	// B runs while A still holds its rows: a plain FOR UPDATE would block
	// here until A ends, so a short deadline proves it skips them.
	txB, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txB.Rollback(ctx)
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := claimScheduled(bctx, txB, 4, 2, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(b), []string{"t4", "t5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("B claimed %v, want %v", got, want)
	}
	// Nothing is left for a third while both are open.
	c, err := s.claimScheduledNow(bctx, 10, 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 0 {
		t.Errorf("C claimed %v while A and B held everything", taskIDsOf(c))
	}

	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := txB.Rollback(ctx); err != nil { // B's scheduler died
		t.Fatal(err)
	}
	c, err = s.claimScheduledNow(ctx, 10, 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := taskIDsOf(c), []string{"t4", "t5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after B rolled back, C claimed %v, want %v", got, want)
	}

	all, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	byJob := map[string]int64{}
	for _, ti := range all {
		byJob[ti.TaskID+":"+string(ti.State)] = ti.QueuedByJobID
	}
	want := map[string]int64{"t0:queued": 1, "t1:queued": 1, "t2:queued": 1, "t3:queued": 1,
		"t4:queued": 3, "t5:queued": 3, "queued:queued": 0, "none:": 0}
	if !reflect.DeepEqual(byJob, want) {
		t.Errorf("task:state → queued by job = %v, want %v", byJob, want)
	}
}

// testClaimConcurrent has eight claimers on two stores drain 300 scheduled
// task instances in small batches: every one is claimed exactly once, by
// the claimer the database says queued it.
func testClaimConcurrent(t *testing.T, srv *testenv.PostgresServer) {
	dsn := srv.CreateDatabase(t)
	stores := []*Store{openTest(t, dsn), openUnmigrated(t, dsn)}
	ctx := t.Context()
	const runs, tasks = 3, 100
	for r := range runs {
		var tis []store.TaskInstance
		for i := range tasks {
			tis = append(tis, store.TaskInstance{TIKey: store.TIKey{TaskID: fmt.Sprintf("t%03d", i)},
				State: store.TIScheduled, PriorityWeight: i % 7})
		}
		if _, err := stores[0].CreateDagRun(ctx, store.DagRun{DagID: "etl", RunID: fmt.Sprint("r", r)}, tis); err != nil {
			t.Fatal(err)
		}
	}

	const claimers = 8
	claimed := make([][]store.TaskInstance, claimers)
	errs := make([]error, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range claimers {
		s, job := stores[i%len(stores)], int64(i+1)
		wg.Go(func() {
			<-start
			for range runs * tasks { // bound: each round claims at least one or stops
				got, err := s.claimScheduledNow(ctx, 7, job, time.Now())
				if err != nil {
					errs[i] = err
					return
				}
				if len(got) == 0 {
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
