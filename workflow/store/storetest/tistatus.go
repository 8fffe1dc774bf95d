package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/store"
)

// testTIStatuses: the statuses of the asked runs of one DAG, agreeing with
// the full rows; unknown runs and other DAGs' runs of the same ID are left
// out.
func testTIStatuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedTIs(t, s)
	_, err := s.UpdateTaskInstance(ctx, store.TIKey{DagID: "ml", RunID: "r2", TaskID: "a"}, func(ti *store.TaskInstance) error {
		ti.TryNumber = 2
		return nil
	})
	must(t, err)
	got, err := s.ListTIStatuses(ctx, "ml", []string{"r2", "r1", "nope"})
	must(t, err)
	tis, err := s.ListTaskInstances(ctx, store.TIFilter{DagID: "ml"})
	must(t, err)
	var want []store.TIStatus
	for _, ti := range tis {
		want = append(want, store.TIStatus{RunID: ti.RunID, TaskID: ti.TaskID, State: ti.State, TryNumber: ti.TryNumber})
	}
	byKey := func(a, b store.TIStatus) int {
		return strings.Compare(a.RunID+"/"+a.TaskID, b.RunID+"/"+b.TaskID)
	}
	slices.SortFunc(got, byKey)
	slices.SortFunc(want, byKey)
	equal(t, "statuses", got, want)
	if len(got) != 6 || got[3].TryNumber != 2 {
		t.Errorf("statuses %+v", got)
	}
	got, err = s.ListTIStatuses(ctx, "etl", []string{"r1"})
	must(t, err)
	equal(t, "statuses of one run", len(got), 3)
	got, err = s.ListTIStatuses(ctx, "etl", nil)
	must(t, err)
	equal(t, "statuses of no run", len(got), 0)
}
