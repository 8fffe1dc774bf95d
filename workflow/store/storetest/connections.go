package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

func testConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetConnection(ctx, "warehouse")
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.DeleteConnection(ctx, "warehouse"), store.ErrNotFound)

	// Every byte value, including NUL and invalid UTF-8, must survive.
	blob := make([]byte, 256)
	for i := range blob {
		blob[i] = byte(i)
	}
	before := time.Now().Add(-time.Second)
	wh := store.Connection{ConnID: "warehouse", ConnType: "postgres", Description: "the DWH", Ciphertext: blob}
	must(t, s.SetConnection(ctx, wh))
	must(t, s.SetConnection(ctx, store.Connection{ConnID: "api", ConnType: "http", Ciphertext: []byte("x")}))
	got, err := s.GetConnection(ctx, "warehouse")
	must(t, err)
	if got.UpdatedAt.Before(before) || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt = %v, want a UTC time after %v", got.UpdatedAt, before)
	}
	wh.UpdatedAt = got.UpdatedAt
	equal(t, "connection", got, wh)

	wh.ConnType, wh.Description, wh.Ciphertext = "gcp", "", []byte("rotated")
	must(t, s.SetConnection(ctx, wh))
	got, err = s.GetConnection(ctx, "warehouse")
	must(t, err)
	if !bytes.Equal(got.Ciphertext, wh.Ciphertext) || got.ConnType != "gcp" || got.Description != "" {
		t.Errorf("replaced connection = %+v, want %+v", got, wh)
	}

	cs, err := s.ListConnections(ctx)
	must(t, err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ConnID)
	}
	equal(t, "connection IDs", ids, []string{"api", "warehouse"})

	must(t, s.DeleteConnection(ctx, "warehouse"))
	_, err = s.GetConnection(ctx, "warehouse")
	mustBe(t, err, store.ErrNotFound)
	cs, err = s.ListConnections(ctx)
	must(t, err)
	equal(t, "connections after delete", len(cs), 1)
}

func testSecretVariables(t *testing.T, s store.Store) {
	ctx := t.Context()
	v := store.Variable{Key: "api_token", Value: "s3cr3t", Secret: true}
	must(t, s.SetVariable(ctx, v))
	got, err := s.GetVariable(ctx, "api_token")
	must(t, err)
	equal(t, "secret variable", got, v)

	// Setting it again without the flag clears it, as any other field.
	v.Secret = false
	must(t, s.SetVariable(ctx, v))
	vs, err := s.ListVariables(ctx)
	must(t, err)
	equal(t, "variables", vs, []store.Variable{v})
}

func testTaskOutputs(t *testing.T, s store.Store) {
	ctx := t.Context()
	createRun(t, s, newRun("etl", "r1", day(0)), "extract", "load", "report")
	createRun(t, s, newRun("etl", "r2", day(1)), "extract")
	out, err := s.GetTaskOutputs(ctx, "etl", "r1")
	must(t, err)
	equal(t, "outputs before any", out, map[string]string{})

	big := string(bytes.Repeat([]byte("é"), store.MaxTaskOutputSize/2))
	must(t, s.SetTaskOutput(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "extract"}, "first"))
	must(t, s.SetTaskOutput(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "extract"}, "42 rows"))
	must(t, s.SetTaskOutput(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "load"}, big))
	must(t, s.SetTaskOutput(ctx, store.TIKey{DagID: "etl", RunID: "r2", TaskID: "extract"}, ""))

	out, err = s.GetTaskOutputs(ctx, "etl", "r1")
	must(t, err)
	equal(t, "outputs of r1", out, map[string]string{"extract": "42 rows", "load": big})
	out, err = s.GetTaskOutputs(ctx, "etl", "r2")
	must(t, err)
	equal(t, "outputs of r2", out, map[string]string{"extract": ""})

	err = s.SetTaskOutput(ctx, store.TIKey{DagID: "etl", RunID: "r1", TaskID: "nope"}, "x")
	mustBe(t, err, store.ErrNotFound)

	// Outputs go with their run.
	must(t, s.DeleteDagRun(ctx, "etl", "r1"))
	createRun(t, s, newRun("etl", "r1", day(0)), "extract")
	out, err = s.GetTaskOutputs(ctx, "etl", "r1")
	must(t, err)
	equal(t, "outputs of a recreated run", out, map[string]string{})
}

func testSLAMisses(t *testing.T, s store.Store) {
	ctx := t.Context()
	miss := func(dag, task, run string, n int) store.SLAMiss {
		return store.SLAMiss{DagID: dag, TaskID: task, RunID: run, LogicalDate: day(n),
			Deadline: day(n).Add(time.Hour), DetectedAt: day(n).Add(2 * time.Hour)}
	}
	for _, m := range []store.SLAMiss{miss("etl", "load", "r1", 0), miss("etl", "load", "r2", 1), miss("report", "send", "r1", 2)} {
		created, err := s.RecordSLAMiss(ctx, m)
		must(t, err)
		equal(t, "created "+m.DagID+"/"+m.RunID, created, true)
	}
	// Recording again, even with other times, keeps the first record.
	again := miss("etl", "load", "r1", 5)
	created, err := s.RecordSLAMiss(ctx, again)
	must(t, err)
	equal(t, "created a second time", created, false)

	must(t, s.MarkSLAMissNotified(ctx, "etl", "load", "r1"))
	mustBe(t, s.MarkSLAMissNotified(ctx, "etl", "load", "r9"), store.ErrNotFound)

	all, total, err := s.ListSLAMisses(ctx, store.SLAMissFilter{})
	must(t, err)
	equal(t, "total", total, 3)
	want0 := miss("etl", "load", "r1", 0)
	for _, tm := range []*time.Time{&want0.LogicalDate, &want0.Deadline, &want0.DetectedAt} {
		*tm = dbTime(*tm)
	}
	want0.Notified = true
	if len(all) != 3 {
		t.Fatalf("%d misses, want 3", len(all))
	}
	equal(t, "oldest miss, notified", all[2], want0)
	equal(t, "newest first", []string{all[0].DagID, all[1].RunID}, []string{"report", "r2"})

	page, total, err := s.ListSLAMisses(ctx, store.SLAMissFilter{DagID: "etl", Limit: 1, Offset: 1})
	must(t, err)
	equal(t, "etl total", total, 2)
	if len(page) != 1 || page[0].RunID != "r1" || !page[0].Notified {
		t.Errorf("second page of etl = %+v, want r1 notified", page)
	}

	// A zero DetectedAt means now.
	before := time.Now().Add(-time.Second)
	_, err = s.RecordSLAMiss(ctx, store.SLAMiss{DagID: "new", TaskID: "t", RunID: "r"})
	must(t, err)
	got, _, err := s.ListSLAMisses(ctx, store.SLAMissFilter{DagID: "new"})
	must(t, err)
	if len(got) != 1 || got[0].DetectedAt.Before(before) || got[0].Notified {
		t.Errorf("miss with default detection time = %+v, want detected after %v, not notified", got, before)
	}
}
