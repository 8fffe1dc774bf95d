package google

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/state"
)

// TestConvergesUnderFaults: with 20 % of requests answered 429/500/503
// (before the fake acts on them), apply, re-plan, import and destroy of
// every resource type still converge, through retries alone.
func TestConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{FaultRate: 0.2, Seed: 7, FaultStatuses: []int{429, 500, 503}})
	e.config(lbConfig + bucketConfig + sqlConfig)
	p := e.plan()
	if add, _, _ := p.Summary(); add != 20 {
		t.Fatalf("plan adds %d, want 20:\n%s", add, describe(p))
	}
	e.apply()
	e.noChanges()
	e.forget("google_compute_backend_service.web")
	e.importID("google_compute_backend_service.web", "airflow-backend")
	e.noChanges()
	e.destroy()
	if st := e.state(); st != nil && len(st.Resources) != 0 {
		t.Fatalf("state after destroy: %v", st.Addresses())
	}
}

// TestLostResponseIsNotAConflict: an insert whose answer is lost (the
// fake creates the object, then answers 503) is retried, meets 409, and
// counts as our own object rather than someone else's.
func TestLostResponseIsNotAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{Faults: []gcpfake.Fault{
		{Method: "POST", Path: "/global/healthChecks", Times: 1, Status: 503, AfterEffect: true},
		{Method: "POST", Path: "/storage/v1/b", Times: 1, Status: 500, AfterEffect: true},
		{Method: "POST", Path: "/v1/projects/p1/instances", Times: 1, Status: 503, AfterEffect: true},
		{Method: "POST", Path: "/instances/airflow-db/databases", Times: 1, Status: 500, AfterEffect: true},
	}})
	e.config(`
resource "google_compute_health_check" "hc" {
  name = "hc"
  tcp_health_check {
    port = 22
  }
}
` + bucketConfig + sqlConfig)
	e.apply()
	e.noChanges()
	e.mustAction(e.plan(), "google_compute_health_check.hc", provision.NoOp)
}

// TestInterruptedCreateIsRecorded: an apply aborted while an insert's
// operation is still running records the object, so the next plan
// refreshes it (no orphan, no duplicate create).
func TestInterruptedCreateIsRecorded(t *testing.T) {
	t.Parallel()
	// The insert's operation runs for a moment (FastLatency), and the
	// first wait for it hangs until the apply is aborted.
	abort, cancel := abortOnRequest("POST /compute/v1/projects/p1/global/operations/")
	defer cancel()
	e := newEnv(t, gcpfake.Options{Latency: gcpfake.FastLatency(), Logf: abort.logf,
		Faults: []gcpfake.Fault{{Method: "POST", Path: "/global/operations/", Times: 1, Hang: true}}})
	e.config(`
resource "google_compute_health_check" "hc" {
  name = "hc"
  http_health_check {}
}
`)
	eng := e.engine()
	eng.Abort = abort.ctx
	p, err := eng.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), "recorded in the state") {
		t.Fatalf("aborted apply: %v", err)
	}
	if e.state().Instance(state.MustParseAddress("google_compute_health_check.hc")) == nil {
		t.Fatal("the half-created health check is not in the state")
	}
	// As in Terraform, an object whose create did not finish is tainted:
	// the next apply replaces it, and nothing is left behind.
	c := e.mustAction(e.plan(), "google_compute_health_check.hc", provision.DeleteThenCreate)
	if c.Reason == "" {
		t.Fatalf("replaced without a reason")
	}
	e.apply()
	e.noChanges()
	e.destroy()
}

// The same for Cloud SQL: a database whose create operation was not seen
// to finish is recorded, and the next apply converges with one database.
func TestInterruptedSQLCreateIsRecorded(t *testing.T) {
	t.Parallel()
	// The database insert's operation runs for a moment and the first
	// poll of any operation hangs until the apply is aborted.
	abort, cancel := abortOnRequest("GET /v1/projects/p1/operations/")
	defer cancel()
	e := newEnv(t, gcpfake.Options{
		Latency: &gcpfake.Latency{Methods: map[string]time.Duration{"sql.databases.insert": 20 * time.Millisecond}},
		Faults:  []gcpfake.Fault{{Method: "GET", Path: "/operations/", Times: 1, Hang: true}},
		Logf:    abort.logf,
	})
	e.config(sqlConfig)
	eng := e.engine()
	eng.Abort = abort.ctx
	p, err := eng.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), "recorded in the state") {
		t.Fatalf("aborted apply: %v", err)
	}
	if e.state().Instance(state.MustParseAddress("google_sql_database.airflow")) == nil {
		t.Fatal("the half-created database is not in the state")
	}
	e.apply()
	e.noChanges()
	dbs, err := e.sqlService().Databases.List(testProject, "airflow-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, db := range dbs.Items {
		if db.Name == "airflow" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d databases named airflow", n)
	}
}

// aborter cancels its context when the fake logs a request starting
// with prefix: the moment an apply is inside the call to interrupt.
type aborter struct {
	ctx    context.Context
	cancel context.CancelFunc
	prefix string
}

func abortOnRequest(prefix string) (*aborter, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return &aborter{ctx: ctx, cancel: cancel, prefix: prefix}, cancel
}

func (a *aborter) logf(format string, args ...any) {
	if strings.HasPrefix(fmt.Sprintf(format, args...), "gcpfake: "+a.prefix) {
		a.cancel()
	}
}
