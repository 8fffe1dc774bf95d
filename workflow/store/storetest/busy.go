package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/store"
)

// testCountBusy: queued and running task instances grouped by DAG, pool
// and state, with the pool slots they hold; other states are left out.
func testCountBusy(t *testing.T, s store.Store) {
	ctx := t.Context()
	etl := newTIs("q1", "q2", "r1", "done", "waiting")
	etl[0].State, etl[1].State, etl[2].State, etl[3].State = store.TIQueued, store.TIQueued, store.TIRunning, store.TISuccess
	etl[1].Pool, etl[1].PoolSlots = "big", 3
	report := newTIs("r1")
	report[0].State, report[0].PoolSlots = store.TIRunning, 2
	_, err := s.CreateDagRun(ctx, newRun("etl", "r1", day(0)), etl)
	must(t, err)
	_, err = s.CreateDagRun(ctx, newRun("report", "r1", day(0)), report)
	must(t, err)

	got, err := s.CountBusy(ctx)
	must(t, err)
	slices.SortFunc(got, func(a, b store.BusyCount) int {
		return strings.Compare(a.DagID+a.Pool+string(a.State), b.DagID+b.Pool+string(b.State))
	})
	want := []store.BusyCount{
		{DagID: "etl", Pool: "big", State: store.TIQueued, Count: 1, PoolSlots: 3},
		{DagID: "etl", Pool: store.DefaultPool, State: store.TIQueued, Count: 1, PoolSlots: 1},
		{DagID: "etl", Pool: store.DefaultPool, State: store.TIRunning, Count: 1, PoolSlots: 1},
		{DagID: "report", Pool: store.DefaultPool, State: store.TIRunning, Count: 1, PoolSlots: 2},
	}
	equal(t, "busy counts", got, want)
}
