// Package storetest is the behaviour suite every store.Store implementation
// must pass. It uses only the Store interface, so the same tests run against
// SQLite and Postgres.
package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// Run runs the suite. open must return a fresh, empty, migrated store for
// each call and close it when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"DAG/UpsertKeepsPaused", testUpsertDAGKeepsPaused},
		{"DAG/Missing", testDAGMissing},
		{"DAG/ListAndDeactivate", testListAndDeactivateDAGs},
		{"ImportErrors/Replace", testReplaceImportErrors},
		{"DagRun/CreateGet", testCreateGetDagRun},
		{"DagRun/CreateDuplicate", testCreateDagRunDuplicate},
		{"DagRun/CreateAtomic", testCreateDagRunAtomic},
		{"DagRun/List", testListDagRuns},
		{"DagRun/Update", testUpdateDagRun},
		{"DagRun/UpdateFnErrorAborts", testUpdateDagRunFnError},
		{"DagRun/UpdateUniqueViolation", testUpdateDagRunUnique},
		{"DagRun/Missing", testDagRunMissing},
		{"DagRun/DeleteCascades", testDeleteDagRunCascades},
		{"TaskInstance/Get", testGetTaskInstance},
		{"TaskInstance/Filters", testTaskInstanceFilters},
		{"TaskInstance/Order", testTaskInstanceOrder},
		{"TaskInstance/UpdateCAS", testUpdateTaskInstanceCAS},
		{"TaskInstance/ConcurrentCAS", testConcurrentCAS},
		{"TaskInstance/NoLostUpdates", testNoLostUpdates},
		{"TaskInstance/CountBusy", testCountBusy},
		{"TaskInstance/StartTry", testStartTry},
		{"TaskInstance/Move", testMoveTaskInstances},
		{"TaskInstance/Missing", testTaskInstanceMissing},
		{"TaskInstance/Statuses", testTIStatuses},
		{"Time/RoundTrip", testTimeRoundTrip},
		{"Time/FilterAcrossZones", testTimeFilterAcrossZones},
		{"Variables", testVariables},
		{"Pools", testPools},
		{"Migrate/Idempotent", testMigrateIdempotent},
		{"Users", testUsers},
		{"Jobs", testJobs},
		{"Jobs/Defaults", testJobDefaults},
		{"Jobs/List", testListJobs},
		{"TaskInstance/Claim", testClaimTaskInstances},
		{"TaskInstance/ConcurrentClaims", testConcurrentClaims},
		{"Critical", testCritical},
		{"Events", testEvents},
		{"Connections", testConnections},
		{"Variables/Secret", testSecretVariables},
		{"TaskOutputs", testTaskOutputs},
		{"SLAMisses", testSLAMisses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// dbTime is t as a store gives it back.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// day is n days after the suite's base time, which has sub-microsecond
// digits on purpose: stores keep microseconds.
func day(n int) time.Time { return time.Date(2024, 3, 10+n, 1, 2, 3, 456789999, time.UTC) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustBe(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// newRun is a scheduled run of dagID for the interval starting at logical.
func newRun(dagID, runID string, logical time.Time) store.DagRun {
	return store.DagRun{
		DagID:             dagID,
		RunID:             runID,
		RunType:           store.RunScheduled,
		State:             store.RunQueued,
		LogicalDate:       logical,
		DataIntervalStart: logical,
		DataIntervalEnd:   logical.Add(24 * time.Hour),
		QueuedAt:          logical.Add(25 * time.Hour),
	}
}

// newTIs are fresh task instances; CreateDagRun fills in their run.
func newTIs(taskIDs ...string) []store.TaskInstance {
	var tis []store.TaskInstance
	for _, id := range taskIDs {
		tis = append(tis, store.TaskInstance{
			TIKey:     store.TIKey{TaskID: id},
			MaxTries:  2,
			Queue:     "default",
			Pool:      store.DefaultPool,
			PoolSlots: 1,
			Operator:  "bash",
		})
	}
	return tis
}

// createRun creates a run with tasks and fails the test on error.
func createRun(t *testing.T, s store.Store, run store.DagRun, taskIDs ...string) store.DagRun {
	t.Helper()
	r, err := s.CreateDagRun(t.Context(), run, newTIs(taskIDs...))
	must(t, err)
	return r
}

func runIDs(runs []store.DagRun) []string {
	ids := []string{}
	for _, r := range runs {
		ids = append(ids, r.RunID)
	}
	return ids
}

func taskIDs(tis []store.TaskInstance) []string {
	ids := []string{}
	for _, ti := range tis {
		ids = append(ids, ti.RunID+"/"+ti.TaskID)
	}
	return ids
}
