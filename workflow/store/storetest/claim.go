package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// testClaimTaskInstances: only scheduled task instances of the named keys
// are claimed, in the keys' order, stamped with the job and time; a second
// claim of the same keys gets nothing.
func testClaimTaskInstances(t *testing.T, s store.Store) {
	ctx := t.Context()
	tis := newTIs("a", "b", "c", "d")
	tis[0].State, tis[1].State, tis[2].State = store.TIScheduled, store.TIScheduled, store.TIRunning
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), tis)
	must(t, err)
	key := func(task string) store.TIKey { return store.TIKey{DagID: "etl", RunID: "r1", TaskID: task} }

	got, err := s.ClaimTaskInstances(ctx, nil, 7, day(1))
	must(t, err)
	equal(t, "claimed of no keys", len(got), 0)

	keys := []store.TIKey{key("b"), key("c"), key("d"), key("nope"), {DagID: "etl", RunID: "nope", TaskID: "a"}, key("a")}
	got, err = s.ClaimTaskInstances(ctx, keys, 7, day(1))
	must(t, err)
	equal(t, "claimed", taskIDs(got), []string{"r1/b", "r1/a"})
	for _, ti := range got {
		if ti.State != store.TIQueued || ti.QueuedByJobID != 7 || !ti.QueuedAt.Equal(dbTime(day(1))) || ti.UpdatedAt.IsZero() {
			t.Errorf("claimed %+v: want queued by job 7 at %v", ti, dbTime(day(1)))
		}
		stored, err := s.GetTaskInstance(ctx, ti.TIKey)
		must(t, err)
		equal(t, "stored claimed task instance", stored, ti)
	}
	for task, want := range map[string]store.TIState{"c": store.TIRunning, "d": store.TINone} {
		ti, err := s.GetTaskInstance(ctx, key(task))
		must(t, err)
		if ti.State != want || ti.QueuedByJobID != 0 {
			t.Errorf("%s: %s queued by %d; want %s, untouched", task, ti.State, ti.QueuedByJobID, want)
		}
	}
	got, err = s.ClaimTaskInstances(ctx, keys, 8, day(2))
	must(t, err)
	equal(t, "claimed again", taskIDs(got), []string{})
}

// testConcurrentClaims: eight claimers race over overlapping key sets of
// 200 scheduled task instances; each is claimed exactly once, by the job
// the store says queued it.
func testConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n, claimers = 200, 8
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("t%03d", i))
	}
	tis := newTIs(ids...)
	var keys []store.TIKey
	for i := range tis {
		tis[i].State = store.TIScheduled
		keys = append(keys, store.TIKey{DagID: "etl", RunID: "r1", TaskID: ids[i]})
	}
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), tis)
	must(t, err)

	claimed := make([][]store.TaskInstance, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			// Each claimer walks all keys in batches of 10 from its own
			// offset, so every key is wanted by all of them.
			for b := range n / 10 {
				start := (c*25 + b*10) % n
				got, err := s.ClaimTaskInstances(ctx, keys[start:start+10], int64(c+1), time.Now())
				if err != nil {
					errs[c] = err
					return
				}
				claimed[c] = append(claimed[c], got...)
			}
		})
	}
	wg.Wait()
	owner := map[store.TIKey]int64{}
	for c, got := range claimed {
		must(t, errs[c])
		for _, ti := range got {
			if prev, dup := owner[ti.TIKey]; dup {
				t.Errorf("%v claimed by jobs %d and %d", ti.TIKey, prev, c+1)
			}
			owner[ti.TIKey] = int64(c + 1)
		}
	}
	equal(t, "task instances claimed", len(owner), n)
	all, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	must(t, err)
	for _, ti := range all {
		if ti.State != store.TIQueued || ti.QueuedByJobID != owner[ti.TIKey] {
			t.Errorf("%v is %s by job %d, want queued by job %d", ti.TIKey, ti.State, ti.QueuedByJobID, owner[ti.TIKey])
		}
	}
}

// testListJobs: jobs of one type, newest first.
func testListJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	js, err := s.ListJobs(ctx, "worker")
	must(t, err)
	equal(t, "jobs before any", len(js), 0)
	var want []int64
	for i, typ := range []string{"worker", "scheduler", "worker", "worker"} {
		j, err := s.StartJob(ctx, store.Job{JobType: typ, State: "running", Hostname: "h", PID: i, StartDate: day(i)})
		must(t, err)
		if typ == "worker" {
			want = append([]int64{j.ID}, want...)
		}
	}
	js, err = s.ListJobs(ctx, "worker")
	must(t, err)
	var got []int64
	for _, j := range js {
		got = append(got, j.ID)
		equal(t, "job type", j.JobType, "worker")
	}
	equal(t, "worker jobs", got, want)
}

// testCritical: increments of a variable done as read-then-write by many
// goroutines lose none inside Critical, which they would without it.
func testCritical(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.SetVariable(ctx, store.Variable{Key: "n", Value: "0"}))
	const workers, rounds = 6, 10
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				errs[w] = s.Critical(ctx, func(ctx context.Context) error {
					v, err := s.GetVariable(ctx, "n")
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(v.Value)
					if err != nil {
						return err
					}
					return s.SetVariable(ctx, store.Variable{Key: "n", Value: strconv.Itoa(n + 1)})
				})
				if errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	v, err := s.GetVariable(ctx, "n")
	must(t, err)
	equal(t, "increments", v.Value, strconv.Itoa(workers*rounds))

	boom := errors.New("boom")
	mustBe(t, s.Critical(ctx, func(context.Context) error { return boom }), boom)
	// The section is free again after an error.
	must(t, s.Critical(ctx, func(context.Context) error { return nil }))
}
