package testprovider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/testprovider"
)

var ctx = context.Background()

type m = map[string]cty.Value

func schemaOf(p provider.Provider, typeName string) *provider.Schema {
	return p.Schema().Resources[typeName]
}

func config(p provider.Provider, typeName string, attrs m) cty.Value {
	return provider.ObjectWith(schemaOf(p, typeName), attrs)
}

func null(p provider.Provider, typeName string) cty.Value {
	return cty.NullVal(schemaOf(p, typeName).ImpliedType())
}

func plan(t *testing.T, p provider.Provider, typeName string, prior, cfg cty.Value) provider.PlanResponse {
	t.Helper()
	resp, err := p.PlanResource(ctx, provider.PlanRequest{TypeName: typeName, Prior: prior, Config: cfg})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return resp
}

// create plans and applies a new object called name.
func create(t *testing.T, p provider.Provider, typeName, name string) cty.Value {
	t.Helper()
	v, err := tryCreate(ctx, p, typeName, name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return v
}

func tryCreate(ctx context.Context, p provider.Provider, typeName, name string) (cty.Value, error) {
	cfg := config(p, typeName, m{"name": cty.StringVal(name)})
	resp, err := p.PlanResource(ctx, provider.PlanRequest{TypeName: typeName, Prior: null(p, typeName), Config: cfg})
	if err != nil {
		return cty.NilVal, err
	}
	return p.ApplyResource(ctx, provider.ApplyRequest{TypeName: typeName, Prior: null(p, typeName), Planned: resp.Planned})
}

func TestValidate(t *testing.T) {
	if err := testprovider.New().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestThingLifecycle(t *testing.T) {
	p := testprovider.New()
	if err := p.Configure(ctx, cty.ObjectVal(m{"sleep_ms": cty.NullVal(cty.Number)})); err != nil {
		t.Fatal(err)
	}
	cfg := config(p, "test_thing", m{"name": cty.StringVal("a"), "size": cty.NumberIntVal(1)})
	created := plan(t, p, "test_thing", null(p, "test_thing"), cfg)
	for _, attr := range []string{"id", "labels"} {
		if provider.GetAttr(created.Planned, attr).IsKnown() {
			t.Errorf("planned %s should be unknown on create", attr)
		}
	}
	state, err := p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_thing", Prior: null(p, "test_thing"), Planned: created.Planned})
	if err != nil {
		t.Fatal(err)
	}
	id := provider.String(state, "id")
	if o, ok := p.World().Get(id); !ok || o.Name != "a" || !o.Value.RawEquals(state) {
		t.Fatalf("world holds %#v, %v", o, ok)
	}
	if got := provider.StringMap(state, "labels"); got["managed-by"] != "airctl" {
		t.Errorf("labels = %v", got)
	}

	if resp := plan(t, p, "test_thing", state, cfg); !resp.Planned.RawEquals(state) {
		t.Fatalf("no-op plan differs: %#v", resp.Planned)
	}

	// tags update in place; labels are unknown until apply.
	tagged := config(p, "test_thing", m{"name": cty.StringVal("a"), "tags": cty.MapVal(m{"team": cty.StringVal("data")})})
	resp := plan(t, p, "test_thing", state, tagged)
	if len(resp.RequiresReplace) > 0 || provider.GetAttr(resp.Planned, "labels").IsKnown() {
		t.Fatalf("tags plan: replace %v, labels %#v", resp.RequiresReplace, provider.GetAttr(resp.Planned, "labels"))
	}
	state, err = p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_thing", Prior: state, Planned: resp.Planned})
	if err != nil {
		t.Fatal(err)
	}
	if provider.String(state, "id") != id || provider.StringMap(state, "labels")["team"] != "data" {
		t.Fatalf("updated state %#v", state)
	}

	// A new name replaces.
	renamed := config(p, "test_thing", m{"name": cty.StringVal("b")})
	if resp := plan(t, p, "test_thing", state, renamed); len(resp.RequiresReplace) != 1 {
		t.Fatalf("rename: RequiresReplace = %v", resp.RequiresReplace)
	}

	gone, err := p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_thing", Prior: state, Planned: null(p, "test_thing")})
	if err != nil || !gone.IsNull() || p.World().Len() != 0 {
		t.Fatalf("delete: %#v, %v, world %d", gone, err, p.World().Len())
	}
	// Deleting again (an interrupted destroy re-run) succeeds.
	if _, err := p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_thing", Prior: state, Planned: null(p, "test_thing")}); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[testprovider.OpKind]int{
		testprovider.OpConfigure: 1, testprovider.OpPlan: 4, testprovider.OpCreate: 1,
		testprovider.OpUpdate: 1, testprovider.OpDelete: 2, testprovider.OpRead: 0,
	} {
		if got := p.CountOps(kind); got != want {
			t.Errorf("CountOps(%s) = %d, want %d", kind, got, want)
		}
	}
	p.ResetCounters()
	if p.CountOps(testprovider.OpPlan) != 0 || p.MaxConcurrentOps() != 0 {
		t.Error("ResetCounters left counts")
	}
}

func TestDuplicateNameIsAConflict(t *testing.T) {
	p := testprovider.New()
	first := create(t, p, "test_thing", "a")
	_, err := tryCreate(ctx, p, "test_thing", "a")
	if !errors.Is(err, testprovider.ErrAlreadyExists) || !strings.Contains(err.Error(), provider.String(first, "id")) {
		t.Fatalf("err = %v", err)
	}
	create(t, p, "test_slow", "a") // names are unique per type only
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      testprovider.Fault
		failures   int  // of 3 attempts
		wantObject bool // after the first attempt
	}{
		{"once", testprovider.Fault{Kind: testprovider.OpCreate, Name: "a"}, 1, false},
		{"twice", testprovider.Fault{Kind: testprovider.OpCreate, Name: "a", Times: 2}, 2, false},
		{"always", testprovider.Fault{Kind: testprovider.OpCreate, Times: testprovider.Always}, 3, false},
		{"other name", testprovider.Fault{Kind: testprovider.OpCreate, Name: "b"}, 0, true},
		{"after change", testprovider.Fault{Kind: testprovider.OpCreate, Name: "a", AfterChange: true}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testprovider.New()
			p.Inject(tt.fault)
			failures := 0
			for i := range 3 {
				v, err := tryCreate(ctx, p, "test_thing", "a")
				if err != nil {
					failures++
					if !errors.Is(err, testprovider.ErrInjected) {
						t.Fatalf("err = %v", err)
					}
				}
				if i == 0 && (p.World().Len() == 1) != tt.wantObject {
					t.Fatalf("after the first attempt the world has %d objects", p.World().Len())
				}
				if tt.fault.AfterChange && i == 0 && provider.String(v, "id") == "" {
					t.Fatal("a failure after the change must still return the new state")
				}
				if o, ok := p.World().ByName("test_thing", "a"); ok {
					if err := p.DeleteOutside(o.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			if failures != tt.failures {
				t.Fatalf("%d failures, want %d", failures, tt.failures)
			}
		})
	}
}

func TestFailCreateWithCustomError(t *testing.T) {
	p := testprovider.New()
	quota := errors.New("quota exceeded")
	p.Inject(testprovider.Fault{Kind: testprovider.OpCreate, Err: quota})
	if _, err := tryCreate(ctx, p, "test_thing", "a"); !errors.Is(err, quota) || !errors.Is(err, testprovider.ErrInjected) {
		t.Fatalf("err = %v", err)
	}
	p.FailCreate("a", testprovider.Always)
	for range 2 {
		if _, err := tryCreate(ctx, p, "test_thing", "a"); err == nil {
			t.Fatal("FailCreate(Always) let a create through")
		}
	}
}

func TestGateBoundsAndReleases(t *testing.T) {
	p := testprovider.New()
	gate := p.Block(testprovider.OpCreate, "")
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := tryCreate(ctx, p, "test_thing", fmt.Sprint("t", i))
			errs <- err
		})
	}
	for range n {
		<-gate.Arrived()
	}
	if p.InFlight() != n || p.MaxConcurrentOps() != n || p.World().Len() != 0 {
		t.Fatalf("in flight %d, max %d, objects %d", p.InFlight(), p.MaxConcurrentOps(), p.World().Len())
	}
	gate.Release()
	gate.Release() // idempotent
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p.World().Len() != n || p.InFlight() != 0 {
		t.Fatalf("objects %d, in flight %d", p.World().Len(), p.InFlight())
	}
	create(t, p, "test_thing", "after-release") // a released gate passes
}

func TestGateByNameAndCancel(t *testing.T) {
	p := testprovider.New()
	gate := p.Block(testprovider.OpCreate, "held")
	create(t, p, "test_thing", "free") // other names pass

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := tryCreate(cctx, p, "test_thing", "held")
		done <- err
	}()
	if got := <-gate.Arrived(); got != "held" {
		t.Fatalf("arrived %q", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := p.World().ByName("test_thing", "held"); ok {
		t.Fatal("an interrupted create made the object")
	}
}

func TestHook(t *testing.T) {
	p := testprovider.New()
	var seen []string
	var mu sync.Mutex
	p.SetHook(func(_ context.Context, kind testprovider.OpKind, name string) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, string(kind)+":"+name)
		if kind == testprovider.OpCreate && name == "bad" {
			return errors.New("hooked")
		}
		return nil
	})
	create(t, p, "test_thing", "good")
	if _, err := tryCreate(ctx, p, "test_thing", "bad"); err == nil || !strings.Contains(err.Error(), "hooked") {
		t.Fatalf("err = %v", err)
	}
	p.SetHook(nil)
	create(t, p, "test_thing", "bad")
	if got := strings.Join(seen, ","); got != "plan:good,create:good,plan:bad,create:bad" {
		t.Fatalf("hook saw %s", got)
	}
}

func TestDrift(t *testing.T) {
	p := testprovider.New()
	state := create(t, p, "test_thing", "a")
	id := provider.String(state, "id")

	if err := p.MutateOutside(id, m{"size": cty.NumberIntVal(7)}); err != nil {
		t.Fatal(err)
	}
	read, err := p.ReadResource(ctx, "test_thing", state)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := provider.Int(read, "size"); n != 7 {
		t.Fatalf("refresh missed the drift: %#v", read)
	}
	// Planning the configuration against the refreshed state repairs it.
	cfg := config(p, "test_thing", m{"name": cty.StringVal("a")})
	if resp := plan(t, p, "test_thing", read, cfg); !provider.GetAttr(resp.Planned, "size").IsNull() {
		t.Fatalf("plan does not undo the drift: %#v", resp.Planned)
	}

	if err := p.DeleteOutside(id); err != nil {
		t.Fatal(err)
	}
	if read, err := p.ReadResource(ctx, "test_thing", state); err != nil || !read.IsNull() {
		t.Fatalf("deleted object read as %#v, %v", read, err)
	}
	if _, err := p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_thing", Prior: state, Planned: state}); !errors.Is(err, testprovider.ErrNotFound) {
		t.Fatalf("update of a deleted object: %v", err)
	}

	tests := []struct {
		id    string
		attrs m
		want  string
	}{
		{"nope", m{"size": cty.NumberIntVal(1)}, "not found"},
		{provider.String(create(t, p, "test_thing", "b"), "id"), m{"colour": cty.StringVal("red")}, `no attribute "colour"`},
		{provider.String(create(t, p, "test_thing", "c"), "id"), m{"size": cty.StringVal("big")}, "attribute size"},
	}
	for _, tt := range tests {
		if err := p.MutateOutside(tt.id, tt.attrs); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MutateOutside(%s) = %v, want %q", tt.id, err, tt.want)
		}
	}
	if err := p.DeleteOutside("nope"); !errors.Is(err, testprovider.ErrNotFound) {
		t.Errorf("DeleteOutside(nope) = %v", err)
	}
}

func TestImport(t *testing.T) {
	p := testprovider.New()
	state := create(t, p, "test_thing", "a")
	got, err := p.ImportResource(ctx, "test_thing", provider.String(state, "id"))
	if err != nil || !got.RawEquals(state) {
		t.Fatalf("import: %#v, %v", got, err)
	}
	if _, err := p.ImportResource(ctx, "test_slow", provider.String(state, "id")); !errors.Is(err, testprovider.ErrNotFound) {
		t.Fatalf("import of another type: %v", err)
	}
}

func TestSharedWorld(t *testing.T) {
	w := testprovider.NewWorld()
	a, b := testprovider.NewWithWorld(w), testprovider.NewWithWorld(w)
	create(t, a, "test_thing", "x")
	if _, err := tryCreate(ctx, b, "test_thing", "x"); !errors.Is(err, testprovider.ErrAlreadyExists) {
		t.Fatalf("second provider on the same world: %v", err)
	}
	if objs := w.Objects(); len(objs) != 1 || objs[0].Name != "x" {
		t.Fatalf("objects = %v", objs)
	}
}

func TestSlowHonoursDelayAndCancellation(t *testing.T) {
	p := testprovider.New()
	hour := cty.ObjectVal(m{"sleep_ms": cty.NumberIntVal(3_600_000)})
	if err := p.Configure(ctx, hour); err != nil {
		t.Fatal(err)
	}
	// The provider-level hour would hang the test; a cancelled context
	// must end the wait at once and create nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tryCreate(cctx, p, "test_slow", "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if p.World().Len() != 0 {
		t.Fatal("cancelled create made an object")
	}
	// The resource's own sleep_ms overrides the provider's.
	cfg := config(p, "test_slow", m{"name": cty.StringVal("a"), "sleep_ms": cty.NumberIntVal(1)})
	resp := plan(t, p, "test_slow", null(p, "test_slow"), cfg)
	if _, err := p.ApplyResource(ctx, provider.ApplyRequest{TypeName: "test_slow", Prior: null(p, "test_slow"), Planned: resp.Planned}); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	p := testprovider.New()
	p.World().SetLookup("image", "debian-12")
	cfg := cty.ObjectVal(m{"name": cty.StringVal("image"), "value": cty.NullVal(cty.String), "id": cty.NullVal(cty.String)})
	tests := []struct{ name, want string }{{"image", "debian-12"}, {"other", "value-of-other"}}
	for _, tt := range tests {
		v, err := p.ReadDataSource(ctx, "test_lookup", provider.SetAttrs(cfg, m{"name": cty.StringVal(tt.name)}))
		if err != nil || provider.String(v, "value") != tt.want || provider.String(v, "id") != "lookup-"+tt.name {
			t.Errorf("lookup %s = %#v, %v", tt.name, v, err)
		}
	}
	if p.CountOps(testprovider.OpReadData) != 2 {
		t.Errorf("CountOps(read_data) = %d", p.CountOps(testprovider.OpReadData))
	}
}
