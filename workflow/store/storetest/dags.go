package storetest

import (
	"testing"

	"github.com/airctl/airctl/workflow/store"
)

func newDAG(id string) store.DAG {
	return store.DAG{
		DagID:        id,
		FileLoc:      "/dags/" + id + ".hcl",
		Description:  "the " + id + " DAG",
		Schedule:     "@daily",
		Timezone:     "Europe/Paris",
		Tags:         []string{"etl", id},
		IsActive:     true,
		LastParsedAt: day(0),
	}
}

func testUpsertDAGKeepsPaused(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDAG("etl")
	d.IsPaused = true
	must(t, s.UpsertDAG(ctx, d))
	got, err := s.GetDAG(ctx, "etl")
	must(t, err)
	want := d
	want.LastParsedAt = dbTime(d.LastParsedAt)
	equal(t, "new DAG", got, want)

	// Re-parsing reports the file's default (unpaused); the user's pause stays.
	d.IsPaused, d.Description, d.Tags, d.LastParsedAt = false, "changed", nil, day(1)
	must(t, s.UpsertDAG(ctx, d))
	got, err = s.GetDAG(ctx, "etl")
	must(t, err)
	want = d
	want.IsPaused, want.LastParsedAt = true, dbTime(d.LastParsedAt)
	equal(t, "updated DAG", got, want)

	must(t, s.SetDAGPaused(ctx, "etl", false))
	got, err = s.GetDAG(ctx, "etl")
	must(t, err)
	equal(t, "paused after unpause", got.IsPaused, false)

	must(t, s.UpsertDAG(ctx, newDAG("other")))
	got, err = s.GetDAG(ctx, "other")
	must(t, err)
	equal(t, "new unpaused DAG paused", got.IsPaused, false)
}

func testDAGMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetDAG(ctx, "nope")
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.SetDAGPaused(ctx, "nope", true), store.ErrNotFound)
	dags, err := s.ListDAGs(ctx)
	must(t, err)
	equal(t, "DAGs of an empty store", len(dags), 0)
}

func testListAndDeactivateDAGs(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"c", "a", "b"} {
		must(t, s.UpsertDAG(ctx, newDAG(id)))
	}
	must(t, s.DeactivateDAGs(ctx, []string{"a", "c"}))
	dags, err := s.ListDAGs(ctx)
	must(t, err)
	active := map[string]bool{}
	var ids []string
	for _, d := range dags {
		ids = append(ids, d.DagID)
		active[d.DagID] = d.IsActive
	}
	equal(t, "DAG IDs", ids, []string{"a", "b", "c"})
	equal(t, "active", active, map[string]bool{"a": true, "b": false, "c": true})

	// Every file gone.
	must(t, s.DeactivateDAGs(ctx, nil))
	dags, err = s.ListDAGs(ctx)
	must(t, err)
	for _, d := range dags {
		if d.IsActive {
			t.Errorf("DAG %s still active", d.DagID)
		}
	}
	// The file is back.
	must(t, s.UpsertDAG(ctx, newDAG("b")))
	d, err := s.GetDAG(ctx, "b")
	must(t, err)
	equal(t, "re-parsed DAG active", d.IsActive, true)
}

func testReplaceImportErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	errs := []store.ImportError{
		{Filename: "/dags/y.hcl", Message: "y.hcl:3,1-5: bad", Timestamp: day(0)},
		{Filename: "/dags/x.hcl", Message: "x.hcl:1,1-2: worse", Timestamp: day(1)},
	}
	must(t, s.ReplaceImportErrors(ctx, errs))
	got, err := s.ListImportErrors(ctx)
	must(t, err)
	want := []store.ImportError{errs[1], errs[0]} // by file name
	for i := range want {
		want[i].Timestamp = dbTime(want[i].Timestamp)
	}
	equal(t, "import errors", got, want)

	z := store.ImportError{Filename: "/dags/z.hcl", Message: "z", Timestamp: day(2)}
	must(t, s.ReplaceImportErrors(ctx, []store.ImportError{z}))
	got, err = s.ListImportErrors(ctx)
	must(t, err)
	z.Timestamp = dbTime(z.Timestamp)
	equal(t, "replaced import errors", got, []store.ImportError{z})

	must(t, s.ReplaceImportErrors(ctx, nil))
	got, err = s.ListImportErrors(ctx)
	must(t, err)
	equal(t, "cleared import errors", len(got), 0)
}
