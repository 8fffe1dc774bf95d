package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// wantRun is r as the store gives it back with ID id.
func wantRun(r store.DagRun, id int64) store.DagRun {
	r.ID = id
	for _, t := range []*time.Time{&r.LogicalDate, &r.DataIntervalStart, &r.DataIntervalEnd,
		&r.QueuedAt, &r.StartDate, &r.EndDate} {
		*t = dbTime(*t)
	}
	return r
}

func testCreateGetDagRun(t *testing.T, s store.Store) {
	ctx := t.Context()
	run := newRun("etl", "scheduled__1", day(0))
	run.RunType, run.ExternalTrigger = store.RunManual, true
	run.Conf = map[string]any{"n": 3.5, "s": "x", "ok": true, "nested": map[string]any{"l": []any{"a", 1.0}}}
	created, err := s.CreateDagRun(ctx, run, newTIs("extract", "load"))
	must(t, err)
	if created.ID == 0 {
		t.Fatal("CreateDagRun did not set ID")
	}
	equal(t, "created run", created, wantRun(run, created.ID))
	got, err := s.GetDagRun(ctx, "etl", "scheduled__1")
	must(t, err)
	equal(t, "got run", got, created)

	tis, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "etl", RunID: "scheduled__1"})
	must(t, err)
	equal(t, "task instances", taskIDs(tis), []string{"scheduled__1/extract", "scheduled__1/load"})
	for _, ti := range tis {
		equal(t, "TI DagID", ti.DagID, "etl")
		equal(t, "TI state", ti.State, store.TINone)
	}

	// No conf stays no conf; a run without tasks is fine.
	other, err := s.CreateDagRun(ctx, newRun("etl", "scheduled__2", day(1)), nil)
	must(t, err)
	if other.ID == created.ID {
		t.Errorf("two runs with ID %d", other.ID)
	}
	got, err = s.GetDagRun(ctx, "etl", "scheduled__2")
	must(t, err)
	equal(t, "run without conf", got.Conf, map[string]any(nil))
}

func testCreateDagRunDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)), "a", "b")

	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(1)), newTIs("a", "c"))
	mustBe(t, err, store.ErrAlreadyExists)
	if !strings.Contains(err.Error(), "r1") {
		t.Errorf("error %q does not name the run", err)
	}
	_, err = s.CreateDagRun(ctx, newRun("etl", "r2", day(0)), newTIs("a", "c"))
	mustBe(t, err, store.ErrAlreadyExists)

	// Nothing of the failed runs is left.
	_, err = s.GetDagRun(ctx, "etl", "r2")
	mustBe(t, err, store.ErrNotFound)
	n, err := s.CountTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	must(t, err)
	equal(t, "task instances", n, 2)
	r1, err := s.GetDagRun(ctx, "etl", "r1")
	must(t, err)
	equal(t, "r1 logical date", r1.LogicalDate, dbTime(day(0)))

	// Run IDs and logical dates are unique per DAG only.
	createRun(t, s, newRun("other", "r1", day(0)), "a")
}

func testCreateDagRunAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	// The second "a" fails after the run row went in; the run must go too.
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), newTIs("a", "b", "a"))
	if err == nil {
		t.Fatal("CreateDagRun with a duplicate task succeeded")
	}
	_, err = s.GetDagRun(ctx, "etl", "r1")
	mustBe(t, err, store.ErrNotFound)
	n, err := s.CountTaskInstances(ctx, store.TIFilter{})
	must(t, err)
	equal(t, "task instances", n, 0)
	// The run ID is free again.
	createRun(t, s, newRun("etl", "r1", day(0)), "a", "b")
}

func testListDagRuns(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Created out of date order, so order by ID would show.
	for _, i := range []int{3, 0, 4, 1, 2} {
		r := newRun("etl", "r"+string(rune('0'+i)), day(i))
		if i%2 == 1 {
			r.RunType = store.RunManual
		}
		if i >= 3 {
			r.State = store.RunSuccess
		}
		createRun(t, s, r)
	}
	createRun(t, s, newRun("other", "o0", day(0)))
	createRun(t, s, newRun("other", "o1", day(1)))

	tests := []struct {
		name  string
		f     store.DagRunFilter
		want  []string
		total int
	}{
		{"all", store.DagRunFilter{}, []string{"r0", "o0", "r1", "o1", "r2", "r3", "r4"}, 7},
		{"dag", store.DagRunFilter{DagID: "etl"}, []string{"r0", "r1", "r2", "r3", "r4"}, 5},
		{"desc", store.DagRunFilter{DagID: "etl", Desc: true}, []string{"r4", "r3", "r2", "r1", "r0"}, 5},
		{"states", store.DagRunFilter{DagID: "etl", States: []store.RunState{store.RunSuccess, store.RunFailed}}, []string{"r3", "r4"}, 2},
		{"run types", store.DagRunFilter{RunTypes: []store.RunType{store.RunManual}}, []string{"r1", "r3"}, 2},
		{"date range inclusive", store.DagRunFilter{DagID: "etl", LogicalDateFrom: day(1), LogicalDateTo: day(3)}, []string{"r1", "r2", "r3"}, 3},
		{"date from", store.DagRunFilter{DagID: "etl", LogicalDateFrom: day(4)}, []string{"r4"}, 1},
		{"date to", store.DagRunFilter{DagID: "etl", LogicalDateTo: day(0)}, []string{"r0"}, 1},
		{"page", store.DagRunFilter{DagID: "etl", Limit: 2, Offset: 1}, []string{"r1", "r2"}, 5},
		{"desc page", store.DagRunFilter{DagID: "etl", Desc: true, Limit: 2}, []string{"r4", "r3"}, 5},
		{"offset only", store.DagRunFilter{DagID: "etl", Offset: 3}, []string{"r3", "r4"}, 5},
		{"past the end", store.DagRunFilter{DagID: "etl", Limit: 2, Offset: 10}, []string{}, 5},
		{"no match", store.DagRunFilter{DagID: "nope"}, []string{}, 0},
	}
	for _, tt := range tests {
		runs, total, err := s.ListDagRuns(ctx, tt.f)
		must(t, err)
		equal(t, tt.name+" runs", runIDs(runs), tt.want)
		equal(t, tt.name+" total", total, tt.total)
	}
}

func testUpdateDagRun(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := createRun(t, s, newRun("etl", "r1", day(0)), "a")
	paris := time.FixedZone("CET", 3600)
	start := time.Date(2024, 3, 11, 9, 0, 0, 123456789, paris)
	updated, err := s.UpdateDagRun(ctx, "etl", "r1", func(r *store.DagRun) error {
		equal(t, "row seen by fn", *r, created)
		r.State, r.StartDate, r.Conf = store.RunRunning, start, map[string]any{"k": "v"}
		return nil
	})
	must(t, err)
	want := created
	want.State, want.StartDate, want.Conf = store.RunRunning, dbTime(start), map[string]any{"k": "v"}
	equal(t, "updated run", updated, want)
	got, err := s.GetDagRun(ctx, "etl", "r1")
	must(t, err)
	equal(t, "stored run", got, want)
}

func testUpdateDagRunFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := createRun(t, s, newRun("etl", "r1", day(0)), "a")
	for _, fnErr := range []error{errors.New("boom"), store.ErrStateConflict} {
		_, err := s.UpdateDagRun(ctx, "etl", "r1", func(r *store.DagRun) error {
			r.State, r.EndDate = store.RunFailed, day(1)
			return fnErr
		})
		mustBe(t, err, fnErr)
		got, err := s.GetDagRun(ctx, "etl", "r1")
		must(t, err)
		equal(t, "run after aborted update", got, created)
	}
}

func testUpdateDagRunUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r0", day(0)))
	r1 := createRun(t, s, newRun("etl", "r1", day(1)))
	_, err := s.UpdateDagRun(ctx, "etl", "r1", func(r *store.DagRun) error {
		r.LogicalDate = day(0)
		return nil
	})
	mustBe(t, err, store.ErrAlreadyExists)
	got, err := s.GetDagRun(ctx, "etl", "r1")
	must(t, err)
	equal(t, "run after failed update", got, r1)
}

func testDagRunMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)))
	_, err := s.GetDagRun(ctx, "etl", "nope")
	mustBe(t, err, store.ErrNotFound)
	_, err = s.GetDagRun(ctx, "nope", "r1")
	mustBe(t, err, store.ErrNotFound)
	called := false
	_, err = s.UpdateDagRun(ctx, "etl", "nope", func(*store.DagRun) error {
		called = true
		return nil
	})
	mustBe(t, err, store.ErrNotFound)
	equal(t, "fn called for a missing run", called, false)
	mustBe(t, s.DeleteDagRun(ctx, "etl", "nope"), store.ErrNotFound)
}

func testDeleteDagRunCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)), "a", "b", "c")
	createRun(t, s, newRun("etl", "r2", day(1)), "a", "b")
	must(t, s.DeleteDagRun(ctx, "etl", "r1"))

	_, err := s.GetDagRun(ctx, "etl", "r1")
	mustBe(t, err, store.ErrNotFound)
	_, err = s.GetTaskInstance(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"})
	mustBe(t, err, store.ErrNotFound)
	n, err := s.CountTaskInstances(ctx, store.TIFilter{DagID: "etl", RunID: "r1"})
	must(t, err)
	equal(t, "task instances of the deleted run", n, 0)
	n, err = s.CountTaskInstances(ctx, store.TIFilter{DagID: "etl"})
	must(t, err)
	equal(t, "task instances of the other run", n, 2)
	mustBe(t, s.DeleteDagRun(ctx, "etl", "r1"), store.ErrNotFound)
}
