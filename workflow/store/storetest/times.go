package storetest

import (
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// sameTime checks got is want's instant, in UTC, to the microsecond.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if !got.Equal(want.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want %v in UTC", what, got, want.Truncate(time.Microsecond))
	}
	equal(t, what, got, dbTime(want))
}

func testTimeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	kolkata := time.FixedZone("IST", 5*3600+1800)
	la := time.FixedZone("PST", -8*3600)
	logical := time.Date(2024, 2, 29, 23, 59, 59, 999999999, kolkata)
	run := newRun("etl", "r1", logical)
	run.DataIntervalStart = time.Date(1969, 7, 20, 20, 17, 40, 500000000, la)
	run.StartDate = time.Now() // with a monotonic reading
	run.EndDate = time.Time{}.In(la)
	tis := newTIs("a")
	tis[0].StartDate = time.Date(2030, 1, 1, 0, 0, 0, 1000, la)
	_, err := s.CreateDagRun(ctx, run, tis)
	must(t, err)

	got, err := s.GetDagRun(ctx, "etl", "r1")
	must(t, err)
	sameTime(t, "logical date", got.LogicalDate, logical)
	sameTime(t, "data interval start", got.DataIntervalStart, run.DataIntervalStart)
	sameTime(t, "start date", got.StartDate, run.StartDate)
	sameTime(t, "end date", got.EndDate, time.Time{})

	k := store.TIKey{DagID: "etl", RunID: "r1", TaskID: "a"}
	ti, err := s.GetTaskInstance(ctx, k)
	must(t, err)
	sameTime(t, "TI start date", ti.StartDate, tis[0].StartDate)
	sameTime(t, "TI end date", ti.EndDate, time.Time{})

	end := time.Date(2030, 1, 1, 0, 5, 0, 0, kolkata)
	ti, err = s.UpdateTaskInstance(ctx, k, func(ti *store.TaskInstance) error {
		ti.EndDate, ti.QueuedAt = end, time.Time{}
		return nil
	})
	must(t, err)
	sameTime(t, "updated TI end date", ti.EndDate, end)
	got2, err := s.GetTaskInstance(ctx, k)
	must(t, err)
	sameTime(t, "stored TI end date", got2.EndDate, end)
	sameTime(t, "stored TI queued at", got2.QueuedAt, time.Time{})

	j, err := s.StartJob(ctx, store.Job{JobType: "scheduler", State: "running", StartDate: logical})
	must(t, err)
	must(t, s.HeartbeatJob(ctx, j.ID, end))
	j, err = s.GetJob(ctx, j.ID)
	must(t, err)
	sameTime(t, "job start", j.StartDate, logical)
	sameTime(t, "job heartbeat", j.LatestHeartbeat, end)
	sameTime(t, "job end", j.EndDate, time.Time{})
}

func testTimeFilterAcrossZones(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, id := range []string{"r0", "r1", "r2"} {
		createRun(t, s, newRun("etl", id, day(i)))
	}
	tokyo := time.FixedZone("JST", 9*3600)
	la := time.FixedZone("PST", -8*3600)
	runs, _, err := s.ListDagRuns(ctx, store.DagRunFilter{LogicalDateFrom: day(1).In(tokyo)})
	must(t, err)
	equal(t, "from", runIDs(runs), []string{"r1", "r2"})
	runs, _, err = s.ListDagRuns(ctx, store.DagRunFilter{LogicalDateTo: day(1).In(la)})
	must(t, err)
	equal(t, "to", runIDs(runs), []string{"r0", "r1"})
	runs, _, err = s.ListDagRuns(ctx, store.DagRunFilter{LogicalDateTo: day(1).Add(-time.Microsecond)})
	must(t, err)
	equal(t, "to, a microsecond before", runIDs(runs), []string{"r0"})
}
