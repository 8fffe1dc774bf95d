package storetest

import (
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

func testJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.LatestJob(ctx, "scheduler")
	mustBe(t, err, store.ErrNotFound)
	_, err = s.GetJob(ctx, 42)
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.HeartbeatJob(ctx, 42, day(0)), store.ErrNotFound)
	mustBe(t, s.EndJob(ctx, 42, "success", day(0)), store.ErrNotFound)

	start := func(jobType string, at time.Time) store.Job {
		j := store.Job{JobType: jobType, State: "running", Hostname: "h", PID: 99, Name: jobType + "1@h",
			StartDate: at, LatestHeartbeat: at}
		got, err := s.StartJob(ctx, j)
		must(t, err)
		if got.ID == 0 {
			t.Fatal("StartJob did not set ID")
		}
		j.ID, j.StartDate, j.LatestHeartbeat = got.ID, dbTime(at), dbTime(at)
		equal(t, "started job", got, j)
		return got
	}
	j1 := start("scheduler", day(0))
	j2 := start("scheduler", day(0).Add(time.Minute))
	w := start("worker", day(0).Add(time.Hour))

	got, err := s.GetJob(ctx, j1.ID)
	must(t, err)
	equal(t, "job", got, j1)

	latest := func(jobType string, want int64) {
		t.Helper()
		j, err := s.LatestJob(ctx, jobType)
		must(t, err)
		equal(t, "latest "+jobType+" job", j.ID, want)
	}
	latest("scheduler", j2.ID)
	latest("worker", w.ID)
	must(t, s.HeartbeatJob(ctx, j1.ID, day(0).Add(5*time.Minute)))
	latest("scheduler", j1.ID)
	must(t, s.HeartbeatJob(ctx, j2.ID, day(0).Add(10*time.Minute)))
	latest("scheduler", j2.ID)

	must(t, s.EndJob(ctx, j1.ID, "success", day(1)))
	got, err = s.GetJob(ctx, j1.ID)
	must(t, err)
	want := j1
	want.State, want.EndDate, want.LatestHeartbeat = "success", dbTime(day(1)), dbTime(day(0).Add(5*time.Minute))
	equal(t, "ended job", got, want)
}

func testJobDefaults(t *testing.T, s store.Store) {
	ctx := t.Context()
	j, err := s.StartJob(ctx, store.Job{JobType: "scheduler", State: "running"})
	must(t, err)
	if time.Since(j.StartDate) > time.Minute || j.LatestHeartbeat.IsZero() {
		t.Errorf("job without times started at %v, heartbeat %v; want now", j.StartDate, j.LatestHeartbeat)
	}
	got, err := s.GetJob(ctx, j.ID)
	must(t, err)
	equal(t, "stored job", got, j)
}

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	evs, err := s.ListEvents(ctx, store.EventFilter{})
	must(t, err)
	equal(t, "events of an empty store", len(evs), 0)

	// Added out of time order: the list is by time, not insertion.
	add := []store.Event{
		{When: day(1), Event: "trigger", DagID: "etl", RunID: "manual__1", Owner: "ada"},
		{When: day(0), Event: "pause", DagID: "etl", Owner: "ada", Extra: `{"paused":true}`},
		{When: day(2), Event: "trigger", DagID: "ml", Owner: "bob"},
		{When: day(3), Event: "clear", DagID: "etl", RunID: "r", TaskID: "t", Owner: "bob"},
	}
	for _, e := range add {
		must(t, s.AddEvent(ctx, e))
	}
	names := func(f store.EventFilter) []string {
		t.Helper()
		evs, err := s.ListEvents(ctx, f)
		must(t, err)
		out := []string{}
		for _, e := range evs {
			out = append(out, e.DagID+":"+e.Event)
		}
		return out
	}
	equal(t, "all", names(store.EventFilter{}), []string{"etl:clear", "ml:trigger", "etl:trigger", "etl:pause"})
	equal(t, "dag", names(store.EventFilter{DagID: "etl"}), []string{"etl:clear", "etl:trigger", "etl:pause"})
	equal(t, "event", names(store.EventFilter{Event: "trigger"}), []string{"ml:trigger", "etl:trigger"})
	equal(t, "both", names(store.EventFilter{DagID: "etl", Event: "trigger"}), []string{"etl:trigger"})
	equal(t, "limit", names(store.EventFilter{Limit: 2}), []string{"etl:clear", "ml:trigger"})

	evs, err = s.ListEvents(ctx, store.EventFilter{Event: "clear"})
	must(t, err)
	if len(evs) != 1 || evs[0].ID == 0 {
		t.Fatalf("clear events = %+v, want one with an ID", evs)
	}
	want := add[3]
	want.ID, want.When = evs[0].ID, dbTime(want.When)
	equal(t, "event", evs[0], want)

	// Without a time, an event happens now: newest.
	must(t, s.AddEvent(ctx, store.Event{Event: "unpause", DagID: "etl"}))
	evs, err = s.ListEvents(ctx, store.EventFilter{Limit: 1})
	must(t, err)
	if len(evs) != 1 || evs[0].Event != "unpause" || time.Since(evs[0].When) > time.Minute {
		t.Errorf("newest event = %+v, want unpause at about now", evs)
	}
}
