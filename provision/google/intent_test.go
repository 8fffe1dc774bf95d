package google

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/local"
)

// Create intents: before each create the engine writes the import ID the
// object will have (state.Creating) and waits for the write; the next plan
// adopts the object or creates it again. These tests fake the kill by
// putting back the state a killed apply leaves; the CLI tests
// (internal/command TestGCPExampleKilledApply) kill the real binary.

const networkID = "projects/" + testProject + "/global/networks/n"

// The intent is on disk when the insert reaches the API, and gone (the
// object recorded) once the apply returns.
func TestCreateIntentWrittenBeforeRequest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var statePath string
	var seen []string // what the state file said at each network insert
	e := newEnv(t, gcpfake.Options{Logf: func(format string, args ...any) {
		if len(args) != 2 || args[0] != "POST" || !strings.HasSuffix(strings.Split(args[1].(string), "?")[0], "/global/networks") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		b, err := os.ReadFile(statePath)
		st, derr := state.Decode(b)
		if err != nil || derr != nil {
			seen = append(seen, "unreadable")
			return
		}
		inst := st.Instance(state.MustParseAddress("google_compute_network.n"))
		if inst == nil {
			seen = append(seen, "absent")
			return
		}
		seen = append(seen, inst.Status+" "+inst.ImportID)
	}})
	mu.Lock()
	statePath = filepath.Join(e.dir, "airctl.tfstate")
	mu.Unlock()
	e.config(`resource "google_compute_network" "n" { name = "n" }`)
	e.apply()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != state.Creating+" "+networkID {
		t.Fatalf("state at the insert request: %q, want the intent %q", seen, state.Creating+" "+networkID)
	}
	if inst := e.state().Instance(state.MustParseAddress("google_compute_network.n")); inst.Status != "" || inst.ImportID != "" {
		t.Fatalf("after the apply the instance is %q %q, want a plain object", inst.Status, inst.ImportID)
	}
	e.noChanges()
}

// killedAfterCreate rewrites addr in state as a killed apply leaves it:
// only the intent.
func (e *env) killedAfterCreate(addr, id string) {
	e.t.Helper()
	st := e.state()
	if st == nil {
		st = state.New("test")
	}
	a := state.MustParseAddress(addr)
	st.SetInstance(a, "google", &state.Instance{Status: state.Creating, ImportID: id})
	if err := e.be.Write(context.Background(), st); err != nil {
		e.t.Fatal(err)
	}
}

// An intent whose object exists is adopted: the plan lists it, keeps it
// (no create, so no 409), and apply records it; destroy then deletes it.
func TestIntentAdopted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(`resource "google_compute_network" "n" {
  name                    = "n"
  auto_create_subnetworks = false
}`)
	e.apply()
	e.killedAfterCreate("google_compute_network.n", networkID)

	p := e.plan()
	if len(p.Adopted) != 1 || p.Adopted[0].Addr.String() != "google_compute_network.n" || p.Adopted[0].ImportID != networkID {
		t.Fatalf("adopted: %+v\n%s", p.Adopted, describe(p))
	}
	e.mustAction(p, "google_compute_network.n", provision.NoOp)
	if !p.HasChanges() {
		t.Fatal("a plan that adopts reports no changes: apply would skip recording the object")
	}
	e.apply()
	if got := e.str("google_compute_network.n", "id"); got != networkID {
		t.Fatalf("recorded id %q", got)
	}
	e.noChanges()

	// Destroy with only the intent in state deletes the object too.
	e.killedAfterCreate("google_compute_network.n", networkID)
	e.destroy()
	e.killedAfterCreate("google_compute_network.n", networkID)
	if p := e.plan(); len(p.Adopted) != 0 {
		t.Fatalf("adopted a deleted object: %+v", p.Adopted)
	}
}

// An intent whose create never reached the API is created again, even
// with -refresh=false (state has nothing else to plan from).
func TestIntentAbsentCreatesAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(`resource "google_compute_network" "n" { name = "n" }`)
	e.killedAfterCreate("google_compute_network.n", networkID)
	for _, opts := range []provision.PlanOptions{{}, {SkipRefresh: true}} {
		p, err := e.engine().Plan(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		e.mustAction(p, "google_compute_network.n", provision.Create)
		if len(p.Adopted) != 0 {
			t.Fatalf("adopted %+v", p.Adopted)
		}
	}
	e.apply()
	e.noChanges()
}

// A create that meets someone else's object fails with the import
// command and leaves no intent: that object is never adopted.
func TestIntentDroppedWhenNotOurs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(`resource "google_compute_network" "n" { name = "n" }`)
	other := *e
	other.dir = t.TempDir()
	var err error
	if other.be, err = local.New(filepath.Join(other.dir, "airctl.tfstate")); err != nil {
		t.Fatal(err)
	}
	other.config(`resource "google_compute_network" "n" { name = "n" }`)
	other.apply()

	err = e.applyErr(provision.PlanOptions{})
	if !errors.Is(err, provider.ErrAlreadyExists) || !strings.Contains(err.Error(), "airctl import google_compute_network.<name> "+networkID) {
		t.Fatalf("apply over someone else's network: %v", err)
	}
	if st := e.state(); st != nil && len(st.Resources) != 0 {
		t.Fatalf("state keeps %v", st.Addresses())
	}
	p := e.plan()
	e.mustAction(p, "google_compute_network.n", provision.Create)
}

// The load balancer's types say their import IDs before the create, in
// the form their Import accepts (TestReferenceStack checks the rest).
func TestPlannedImportIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(lbConfig)
	e.apply()
	e.checkPlannedImportIDs()
}

// checkPlannedImportIDs checks every managed object in state: the import
// ID the provider plans from its value imports the same object (same id).
func (e *env) checkPlannedImportIDs() {
	e.t.Helper()
	p := newTestProvider()
	if err := p.Configure(context.Background(), e.providerConfig(p)); err != nil {
		e.t.Fatal(err)
	}
	ip := p.(provider.ImportIDPlanner)
	st := e.state()
	n := 0
	for _, addr := range st.Addresses() {
		if addr.Mode == state.Data || !strings.HasPrefix(addr.Type, "google_") {
			continue
		}
		v, err := st.Instance(addr).Value(e.schemaOf(addr.String()).ImpliedType())
		if err != nil {
			e.t.Fatal(err)
		}
		v, _ = v.UnmarkDeep()
		id, ok := ip.PlannedImportID(addr.Type, v)
		if !ok {
			e.t.Errorf("%s: no planned import ID", addr)
			continue
		}
		got, err := p.ImportResource(context.Background(), addr.Type, id)
		if err != nil {
			e.t.Errorf("%s: import %q: %v", addr, id, err)
			continue
		}
		if want := v.GetAttr("id"); !got.GetAttr("id").RawEquals(want) {
			e.t.Errorf("%s: import %q gave id %#v, want %#v", addr, id, got.GetAttr("id"), want)
		}
		// An interrupted create is redone only if a missing object says so.
		if _, err := p.ImportResource(context.Background(), addr.Type, id+"-gone"); !errors.Is(err, provider.ErrNoObject) {
			e.t.Errorf("%s: import of a missing %q: %v, want provider.ErrNoObject", addr, id+"-gone", err)
		}
		n++
	}
	if n < 5 {
		e.t.Fatalf("checked %d resources", n)
	}
}
