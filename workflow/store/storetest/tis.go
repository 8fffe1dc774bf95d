package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

func testGetTaskInstance(t *testing.T, s store.Store) {
	ctx := t.Context()
	ti := store.TaskInstance{
		TIKey:          store.TIKey{TaskID: "load"},
		State:          store.TIUpForRetry,
		TryNumber:      2,
		MaxTries:       3,
		Queue:          "q",
		Pool:           "db",
		PoolSlots:      2,
		PriorityWeight: 7,
		Operator:       "bash",
		Hostname:       "worker-1",
		PID:            4242,
		QueuedByJobID:  9,
		QueuedAt:       day(0),
		StartDate:      day(0).Add(time.Second),
		EndDate:        day(0).Add(time.Minute),
		NextRetryAt:    day(0).Add(time.Hour),
	}
	before := time.Now().Add(-time.Second)
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), []store.TaskInstance{ti})
	must(t, err)
	got, err := s.GetTaskInstance(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "load"})
	must(t, err)
	if got.UpdatedAt.Before(before) || got.UpdatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("UpdatedAt = %v, want about now", got.UpdatedAt)
	}
	want := ti
	want.DagID, want.RunID, want.UpdatedAt = "etl", "r1", got.UpdatedAt
	for _, t := range []*time.Time{&want.QueuedAt, &want.StartDate, &want.EndDate, &want.NextRetryAt} {
		*t = dbTime(*t)
	}
	equal(t, "task instance", got, want)
	equal(t, "duration", got.Duration(), time.Minute-time.Second)
}

func testTaskInstanceMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)), "a")
	for _, k := range []store.TIKey{
		{DagID: "etl", RunID: "r1", TaskID: "nope"},
		{DagID: "etl", RunID: "nope", TaskID: "a"},
		{DagID: "nope", RunID: "r1", TaskID: "a"},
	} {
		_, err := s.GetTaskInstance(ctx, k)
		mustBe(t, err, store.ErrNotFound)
		_, err = s.UpdateTaskInstance(ctx, k, func(*store.TaskInstance) error {
			t.Error("fn called for a missing task instance")
			return nil
		})
		mustBe(t, err, store.ErrNotFound)
	}
}

// seedTIs creates two DAGs with two runs each; the task instances differ
// in every field a TIFilter selects on.
func seedTIs(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, dag := range []string{"etl", "ml"} {
		for i, run := range []string{"r1", "r2"} {
			tis := newTIs("a", "b", "c")
			tis[0].State = store.TISuccess
			tis[1].State, tis[1].Pool, tis[1].QueuedByJobID = store.TIQueued, "db", 7
			if i == 1 {
				tis[1].QueuedByJobID = 8
			}
			if dag == "ml" {
				tis[2].State, tis[2].Pool = store.TIRunning, "gpu"
			}
			_, err := s.CreateDagRun(ctx, newRun(dag, run, day(i)), tis)
			must(t, err)
		}
	}
}

func testTaskInstanceFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedTIs(t, s)
	tests := []struct {
		name string
		f    store.TIFilter
		want int
	}{
		{"all", store.TIFilter{}, 12},
		{"dag", store.TIFilter{DagID: "etl"}, 6},
		{"run", store.TIFilter{RunID: "r1"}, 6},
		{"dag and run", store.TIFilter{DagID: "ml", RunID: "r2"}, 3},
		{"task IDs", store.TIFilter{TaskIDs: []string{"a", "c"}}, 8},
		{"state", store.TIFilter{States: []store.TIState{store.TIQueued}}, 4},
		{"none state", store.TIFilter{States: []store.TIState{store.TINone}}, 2},
		{"states", store.TIFilter{States: []store.TIState{store.TINone, store.TIRunning}}, 4},
		{"pool", store.TIFilter{Pool: "db"}, 4},
		{"pool default", store.TIFilter{Pool: store.DefaultPool}, 6},
		{"job", store.TIFilter{QueuedByJobID: 7}, 2},
		{"everything", store.TIFilter{DagID: "ml", RunID: "r2", TaskIDs: []string{"b"},
			States: []store.TIState{store.TIQueued}, Pool: "db", QueuedByJobID: 8}, 1},
		{"no match", store.TIFilter{DagID: "etl", Pool: "gpu"}, 0},
	}
	for _, tt := range tests {
		tis, err := s.ListTaskInstances(ctx, tt.f)
		must(t, err)
		equal(t, tt.name+" listed", len(tis), tt.want)
		for _, ti := range tis {
			if !matches(ti, tt.f) {
				t.Errorf("%s: %+v does not match the filter", tt.name, ti)
			}
		}
		n, err := s.CountTaskInstances(ctx, tt.f)
		must(t, err)
		equal(t, tt.name+" counted", n, tt.want)
	}

	// Limit caps the list, not the count.
	f := store.TIFilter{DagID: "etl", Limit: 4}
	tis, err := s.ListTaskInstances(ctx, f)
	must(t, err)
	equal(t, "limited list", len(tis), 4)
	n, err := s.CountTaskInstances(ctx, f)
	must(t, err)
	equal(t, "limited count", n, 6)

	// Offset pages through the same order as an unlimited list.
	all, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	must(t, err)
	page, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl", Limit: 2, Offset: 3})
	must(t, err)
	equal(t, "page length", len(page), 2)
	equal(t, "page start", page[0].TIKey, all[3].TIKey)
	equal(t, "page end", page[1].TIKey, all[4].TIKey)
}

// matches is the reference meaning of a TIFilter.
func matches(ti store.TaskInstance, f store.TIFilter) bool {
	in := func(n int, ok func(i int) bool) bool {
		for i := range n {
			if ok(i) {
				return true
			}
		}
		return n == 0
	}
	return (f.DagID == "" || ti.DagID == f.DagID) &&
		(f.RunID == "" || ti.RunID == f.RunID) &&
		in(len(f.TaskIDs), func(i int) bool { return f.TaskIDs[i] == ti.TaskID }) &&
		in(len(f.States), func(i int) bool { return f.States[i] == ti.State }) &&
		(f.Pool == "" || ti.Pool == f.Pool) &&
		(f.QueuedByJobID == 0 || ti.QueuedByJobID == f.QueuedByJobID)
}

func testTaskInstanceOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	// r2 is created first but has the later date: creation order counts.
	for _, run := range []string{"r2", "r1"} {
		tis := newTIs("c", "b", "a")
		tis[0].PriorityWeight = 5
		_, err := s.CreateDagRun(ctx, newRun("etl", run, day(int(run[1]-'0'))), tis)
		must(t, err)
	}
	tis, err := s.ListTaskInstances(ctx, store.TIFilter{})
	must(t, err)
	equal(t, "order", taskIDs(tis), []string{"r2/c", "r1/c", "r2/a", "r2/b", "r1/a", "r1/b"})
	tis, err = s.ListTaskInstances(ctx, store.TIFilter{Limit: 3})
	must(t, err)
	equal(t, "limited order", taskIDs(tis), []string{"r2/c", "r1/c", "r2/a"})
}

// moveTo is the compare-and-set the scheduler does: from one state to
// another, or ErrStateConflict.
func moveTo(from, to store.TIState, hostname string) func(*store.TaskInstance) error {
	return func(ti *store.TaskInstance) error {
		if ti.State != from {
			return fmt.Errorf("task is %s, not %s: %w", ti.State, from, store.ErrStateConflict)
		}
		ti.State, ti.Hostname = to, hostname
		return nil
	}
}

func testUpdateTaskInstanceCAS(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)), "a")
	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}
	before, err := s.GetTaskInstance(ctx, k)
	must(t, err)

	time.Sleep(2 * time.Millisecond) // so UpdatedAt must move
	updated, err := s.UpdateTaskInstance(ctx, k, moveTo(store.TINone, store.TIScheduled, "h1"))
	must(t, err)
	equal(t, "state", updated.State, store.TIScheduled)
	equal(t, "key", updated.TIKey, k)
	if !updated.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("UpdatedAt %v not after %v", updated.UpdatedAt, before.UpdatedAt)
	}
	got, err := s.GetTaskInstance(ctx, k)
	must(t, err)
	equal(t, "stored task instance", got, updated)

	_, err = s.UpdateTaskInstance(ctx, k, moveTo(store.TINone, store.TIQueued, "h2"))
	mustBe(t, err, store.ErrStateConflict)
	got, err = s.GetTaskInstance(ctx, k)
	must(t, err)
	equal(t, "task instance after a conflict", got, updated)

	boom := errors.New("boom")
	_, err = s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
		ti.State = store.TIFailed
		return boom
	})
	mustBe(t, err, boom)
	got, err = s.GetTaskInstance(ctx, k)
	must(t, err)
	equal(t, "task instance after an error", got, updated)
}

func testConcurrentCAS(t *testing.T, s store.Store) {
	ctx := t.Context()
	tis := newTIs("a")
	tis[0].State = store.TIQueued
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), tis)
	must(t, err)
	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}

	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.UpdateTaskInstance(ctx, k, moveTo(store.TIQueued, store.TIRunning, fmt.Sprint("w", i)))
		})
	}
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
	got, err := s.GetTaskInstance(ctx, k)
	must(t, err)
	equal(t, "state", got.State, store.TIRunning)
	equal(t, "hostname", got.Hostname, fmt.Sprint("w", winner))
}

// testNoLostUpdates: concurrent read-modify-writes of one row all land, as
// they would not if an update could slip between another's read and write.
func testNoLostUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), newTIs("a"))
	must(t, err)
	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
					ti.MaxTries++
					return nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := s.GetTaskInstance(ctx, k)
	must(t, err)
	equal(t, "max_tries after concurrent increments", got.MaxTries, newTIs("a")[0].MaxTries+writers*each)
}

// testStartTry: a worker's claim of a queued try, and what it refuses.
func testStartTry(t *testing.T, s store.Store) {
	ctx := t.Context()
	tis := newTIs("fresh", "poked", "retried", "running")
	at := day(3).Truncate(time.Microsecond) // what the stores keep
	firstPoke := day(2).Truncate(time.Microsecond)
	tis[0].State = store.TIQueued
	tis[1].State, tis[1].StartDate = store.TIQueued, firstPoke // a sensor between pokes
	tis[2].State, tis[2].TryNumber, tis[2].StartDate, tis[2].EndDate = store.TIQueued, 1, day(1), day(1).Add(time.Minute)
	tis[3].State, tis[3].TryNumber = store.TIRunning, 1
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), tis)
	must(t, err)
	key := func(task string) store.TIKey { return store.TIKey{DagID: "etl", RunID: "r1", TaskID: task} }
	start := func(task string, try int) (store.TaskInstance, error) {
		return s.StartTry(ctx, key(task), store.TryStart{Try: try, Hostname: "w1", PID: 7, At: at})
	}

	got, err := start("fresh", 1)
	must(t, err)
	if got.State != store.TIRunning || got.TryNumber != 1 || !got.StartDate.Equal(at) || got.Hostname != "w1" || got.PID != 7 {
		t.Errorf("started fresh: %+v", got)
	}
	read, err := s.GetTaskInstance(ctx, key("fresh"))
	must(t, err)
	equal(t, "stored row", read, got)

	got, err = start("poked", 1)
	must(t, err)
	equal(t, "a sensor's start date (its first poke)", got.StartDate, firstPoke)
	got, err = start("retried", 2)
	must(t, err)
	if !got.StartDate.Equal(at) || !got.EndDate.IsZero() || got.TryNumber != 2 {
		t.Errorf("second try: start %v end %v try %d", got.StartDate, got.EndDate, got.TryNumber)
	}

	_, err = start("fresh", 1) // a duplicate delivery: now running
	mustBe(t, err, store.ErrStateConflict)
	_, err = start("running", 2)
	mustBe(t, err, store.ErrStateConflict)
	_, err = start("missing", 1)
	mustBe(t, err, store.ErrNotFound)
}

// testMoveTaskInstances: a batch compare-and-set within one run; only the
// rows still in the from state move, and a finished state sets EndDate.
func testMoveTaskInstances(t *testing.T, s store.Store) {
	ctx := t.Context()
	tis := newTIs("a", "b", "c", "e")
	tis[3].State = store.TIScheduled // already moved by someone else
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), tis)
	must(t, err)
	_, err = s.CreateDagRun(ctx, newRun("etl", "r2", day(1)), newTIs("a"))
	must(t, err)
	at := day(5).Truncate(time.Microsecond)

	moved, err := s.MoveTaskInstances(ctx, "etl", "r1", []string{"a", "b", "e", "missing"}, store.TINone, store.TIScheduled, at)
	must(t, err)
	slices.Sort(moved)
	equal(t, "moved", moved, []string{"a", "b"})
	moved, err = s.MoveTaskInstances(ctx, "etl", "r1", []string{"c"}, store.TINone, store.TIUpstreamFailed, at)
	must(t, err)
	equal(t, "moved to a finished state", moved, []string{"c"})

	got, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	must(t, err)
	for _, ti := range got {
		want, wantEnd := store.TIScheduled, time.Time{}
		switch {
		case ti.RunID == "r2":
			want = store.TINone // another run's task of the same ID
		case ti.TaskID == "c":
			want, wantEnd = store.TIUpstreamFailed, at
		}
		if ti.State != want || !ti.EndDate.Equal(wantEnd) {
			t.Errorf("%s/%s: %s ended %v, want %s ended %v", ti.RunID, ti.TaskID, ti.State, ti.EndDate, want, wantEnd)
		}
	}
}
