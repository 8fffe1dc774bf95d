package sla

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/notify"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/postgres"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// hooks records webhook payloads.
type hooks struct {
	mu       sync.Mutex
	payloads []notify.WebhookPayload
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p notify.WebhookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.payloads = append(h.payloads, p)
}

func (h *hooks) got() []notify.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.payloads)
}

type fixture struct {
	st    store.Store
	d     *dag.DAG
	now   time.Time
	run   store.DagRun
	hooks *hooks
	disp  *notify.Dispatcher
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixture(t *testing.T) *fixture {
	return newFixtureOn(t, openSQLite(t))
}

// newFixtureOn writes the DAG, a run two hours old and its task instances
// to st, with a dispatcher posting to a recording webhook.
func newFixtureOn(t *testing.T, st store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := &hooks{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dags, _, diags := dag.ParseFile("sla.hcl", []byte(`dag "etl" {
  sla_miss {
    webhook { url = "`+srv.URL+`/sla" }
  }
  task "late" {
    sla     = "1h"
    command = "sleep 1"
  }
  task "slow" {
    sla     = "1h"
    command = "true"
  }
  task "ok" {
    sla     = "1h"
    command = "true"
  }
  task "skip" {
    sla     = "1h"
    command = "true"
  }
  task "fresh" {
    sla     = "3h"
    command = "true"
  }
  task "nosla" { command = "false" }
}`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := &fixture{st: st, d: dags[0], now: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), hooks: h}
	if err := st.UpsertDAG(ctx, store.DAG{DagID: "etl", IsActive: true}); err != nil {
		t.Fatal(err)
	}
	ld := f.now.Add(-2 * time.Hour) // manual run: due at its logical date
	deadline := ld.Add(time.Hour)
	tis := []store.TaskInstance{
		{TIKey: store.TIKey{TaskID: "late"}, State: store.TIRunning},
		{TIKey: store.TIKey{TaskID: "slow"}, State: store.TISuccess, EndDate: deadline.Add(time.Minute)},
		{TIKey: store.TIKey{TaskID: "ok"}, State: store.TISuccess, EndDate: deadline.Add(-time.Minute)},
		{TIKey: store.TIKey{TaskID: "skip"}, State: store.TISkipped},
		{TIKey: store.TIKey{TaskID: "fresh"}, State: store.TIRunning},
		{TIKey: store.TIKey{TaskID: "nosla"}, State: store.TIFailed},
	}
	var err error
	f.run, err = st.CreateDagRun(ctx, store.DagRun{
		DagID: "etl", RunID: "manual__1", RunType: store.RunManual, State: store.RunRunning,
		LogicalDate: ld, DataIntervalStart: ld, DataIntervalEnd: ld,
	}, tis)
	if err != nil {
		t.Fatal(err)
	}
	f.disp = f.dispatcher(t, st)
	return f
}

func (f *fixture) dispatcher(t *testing.T, st store.Store) *notify.Dispatcher {
	d := notify.New(context.Background(), notify.Options{Store: st, DAGs: f.lookup, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d
}

func (f *fixture) lookup(id string) *dag.DAG {
	if id == f.d.ID {
		return f.d
	}
	return nil
}

func (f *fixture) checker() *Checker {
	return f.checkerOn(f.st, f.disp)
}

func (f *fixture) checkerOn(st store.Store, n Notifier) *Checker {
	return &Checker{Store: st, DAG: f.lookup, Notify: n, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: func() time.Time { return f.now }}
}

// waitNotified polls the store until every miss is marked notified.
func waitNotified(t *testing.T, st store.Store, want int) []store.SLAMiss {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		misses, total, err := st.ListSLAMisses(context.Background(), store.SLAMissFilter{DagID: "etl"})
		if err != nil {
			t.Fatal(err)
		}
		notified := 0
		for _, m := range misses {
			if m.Notified {
				notified++
			}
		}
		if total == want && notified == want {
			return misses
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d misses, %d notified; want %d both: %+v", total, notified, want, misses)
		}
		time.Sleep(10 * time.Millisecond) // polling the store, not synchronising goroutines
	}
}

func TestMissRecordedAndNotifiedOnce(t *testing.T) {
	f := newFixture(t)
	c := f.checker()
	ctx := context.Background()
	found, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range found {
		ids = append(ids, m.TaskID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"late", "slow"}) {
		t.Fatalf("misses %v, want [late slow] (ok met it, skip was skipped, fresh is not due, nosla has none)", ids)
	}
	for range 3 {
		again, err := c.Check(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("repeated check recorded %v (err %v); a miss is recorded once", again, err)
		}
	}
	misses := waitNotified(t, f.st, 2)
	if err := f.disp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := f.hooks.got()
	if len(got) != 2 {
		t.Fatalf("%d notifications, want 2 (one per miss): %+v", len(got), got)
	}
	wantDeadline := f.run.LogicalDate.Add(time.Hour)
	for _, p := range got {
		if p.Event != "sla_miss" || p.DagID != "etl" || p.RunID != "manual__1" || p.SLADeadline == nil || !p.SLADeadline.Equal(wantDeadline) {
			t.Errorf("payload %+v", p)
		}
	}
	for _, m := range misses {
		if !m.Deadline.Equal(wantDeadline) || !m.DetectedAt.Equal(f.now) || !m.LogicalDate.Equal(f.run.LogicalDate) {
			t.Errorf("stored miss %+v", m)
		}
	}

	// Once the 3h SLA passes too, only that task is new.
	f.now = f.now.Add(2 * time.Hour)
	found, err = c.Check(ctx)
	if err != nil || len(found) != 1 || found[0].TaskID != "fresh" {
		t.Fatalf("after 3h: %+v, %v", found, err)
	}
}

func TestResendUnnotifiedAfterRestart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A previous process recorded the miss, then stopped before delivery.
	m := store.SLAMiss{DagID: "etl", TaskID: "late", RunID: "manual__1", LogicalDate: f.run.LogicalDate, Deadline: f.run.LogicalDate.Add(time.Hour), DetectedAt: f.now}
	if _, err := f.st.RecordSLAMiss(ctx, m); err != nil {
		t.Fatal(err)
	}
	c := f.checker()
	if err := c.Resend(ctx); err != nil {
		t.Fatal(err)
	}
	waitNotified(t, f.st, 1)
	if err := c.Resend(ctx); err != nil { // already notified: nothing sent
		t.Fatal(err)
	}
	if err := f.disp.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.hooks.got(); len(got) != 1 || got[0].TaskID != "late" {
		t.Errorf("notifications %+v, want one for late", got)
	}
}

func TestPausedDAGNotChecked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.st.SetDAGPaused(ctx, "etl", true); err != nil {
		t.Fatal(err)
	}
	found, err := f.checker().Check(ctx)
	if err != nil || len(found) != 0 {
		t.Fatalf("paused DAG: %+v, %v", found, err)
	}
}

func TestDueIsEndOfDataInterval(t *testing.T) {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	scheduled := store.DagRun{LogicalDate: start, DataIntervalStart: start, DataIntervalEnd: start.Add(24 * time.Hour)}
	if got := Due(scheduled); !got.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("scheduled run due %s", got)
	}
	manual := store.DagRun{LogicalDate: start, DataIntervalStart: start, DataIntervalEnd: start}
	if got := Due(manual); !got.Equal(start) {
		t.Errorf("manual run due %s", got)
	}
}

// TestTwoSchedulersNotifyOnceOnPostgres: two scheduler processes (each
// with its own connection pool, dispatcher and checker) check the same
// runs at once; every miss is recorded and notified exactly once.
func TestTwoSchedulersNotifyOnceOnPostgres(t *testing.T) {
	dsn := testenv.Postgres(t).CreateDatabase(t)
	open := func() store.Store {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	f := newFixtureOn(t, open())
	other := open()
	checkers := []*Checker{f.checker(), f.checkerOn(other, f.dispatcher(t, other))}
	var wg sync.WaitGroup
	for _, c := range checkers {
		wg.Go(func() {
			for range 5 {
				if _, err := c.Check(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	waitNotified(t, f.st, 2)
	for _, c := range checkers {
		if err := c.Notify.(*notify.Dispatcher).Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var tasks []string
	for _, p := range f.hooks.got() {
		tasks = append(tasks, p.TaskID)
	}
	slices.Sort(tasks)
	if !slices.Equal(tasks, []string{"late", "slow"}) {
		t.Errorf("notifications for %v, want exactly one each for late and slow", tasks)
	}
}
