package google

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/storage"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/local"
)

const (
	testProject = "p1"
	testRegion  = "us-central1"
	testZone    = "us-central1-a"
)

// testRetry keeps injected-fault tests fast: the backoff is real (random
// waits) but in milliseconds.
var testRetry = retryPolicy{initial: 2 * time.Millisecond, max: 50 * time.Millisecond, deadline: 30 * time.Second}

// env is a gcpfake behind httptest, a config directory with a local state
// file, and an engine using this provider against the fake.
type env struct {
	t    *testing.T
	fake *gcpfake.Server
	ep   gcpfake.Endpoints
	dir  string
	be   *local.Backend
	// project is the provider's project for imports (the config's own
	// provider block decides it for plan and apply).
	project string
}

func newEnv(t *testing.T, opts gcpfake.Options) *env {
	t.Helper()
	if opts.Latency == nil {
		opts.Latency = gcpfake.InstantLatency()
	}
	s, err := gcpfake.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("closing fake: %v", err)
		}
	})
	e := &env{t: t, fake: s, ep: gcpfake.EndpointsFor(ts.URL), dir: t.TempDir(), project: testProject}
	if e.be, err = local.New(filepath.Join(e.dir, "airctl.tfstate")); err != nil {
		t.Fatal(err)
	}
	return e
}

// providerBlock configures the provider the way a user pointing airctl at
// the fake would: Terraform's endpoint forms, compute's ending in
// /compute/v1/.
func (e *env) providerBlock() string {
	return fmt.Sprintf(`
provider "google" {
  project                 = %q
  region                  = %q
  zone                    = %q
  compute_custom_endpoint = %q
  sql_custom_endpoint     = %q
  storage_custom_endpoint = %q
}
`, testProject, testRegion, testZone, e.ep.ComputeBasePath, e.ep.SQL, e.ep.Storage)
}

// config replaces the configuration with src (plus the provider block).
func (e *env) config(src string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "main.tf"), []byte(e.providerBlock()+src), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// readConfig is the configuration last given to config (without the
// provider block).
func (e *env) readConfig() string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "main.tf"))
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimPrefix(string(b), e.providerBlock())
}

func newTestProvider() provider.Provider { return newSimple(&gcp{retry: testRetry}) }

func (e *env) engine() *provision.Engine {
	e.t.Helper()
	cfg, diags := config.LoadDir(e.dir)
	if diags.HasErrors() {
		e.t.Fatalf("load config: %s", diags.Error())
	}
	vars, diags := config.ResolveVariables(cfg, config.VarOptions{Dir: e.dir})
	if diags.HasErrors() {
		e.t.Fatalf("variables: %s", diags.Error())
	}
	return &provision.Engine{
		Config: cfg, Backend: e.be, Variables: vars, Parallelism: 4, Version: "test",
		Providers: map[string]provision.Factory{"google": newTestProvider},
	}
}

func (e *env) plan() *provision.Plan {
	e.t.Helper()
	p, err := e.engine().Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p
}

func (e *env) applyErr(opts provision.PlanOptions) error {
	e.t.Helper()
	eng := e.engine()
	p, err := eng.Plan(context.Background(), opts)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	_, err = eng.Apply(context.Background(), p)
	return err
}

func (e *env) apply() {
	e.t.Helper()
	if err := e.applyErr(provision.PlanOptions{}); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
}

func (e *env) destroy() {
	e.t.Helper()
	if err := e.applyErr(provision.PlanOptions{Destroy: true}); err != nil {
		e.t.Fatalf("destroy: %v", err)
	}
	st := e.state()
	if st != nil && len(st.Resources) > 0 {
		e.t.Fatalf("destroy left %v in state", st.Addresses())
	}
}

// noChanges checks that a plan (with refresh) shows nothing to do.
func (e *env) noChanges() {
	e.t.Helper()
	if p := e.plan(); p.HasChanges() {
		e.t.Fatalf("plan has changes: %s", describe(p))
	}
}

func describe(p *provision.Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		if c.Action == provision.NoOp {
			continue
		}
		fmt.Fprintf(&b, "%s: %s", c.Addr, c.Action)
		if len(c.ReplacePaths) > 0 {
			fmt.Fprintf(&b, " (forced by %v)", c.ReplacePaths)
		}
		if c.Before != cty.NilVal && c.After != cty.NilVal && !c.Before.IsNull() && !c.After.IsNull() {
			bm, am := c.Before.AsValueMap(), c.After.AsValueMap()
			for k, bv := range bm {
				if av := am[k]; !bv.RawEquals(av) {
					fmt.Fprintf(&b, "\n    %s: %#v -> %#v", k, bv, av)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// action is the planned action for addr.
func (e *env) mustAction(p *provision.Plan, addr string, want provision.Action) *provision.Change {
	e.t.Helper()
	c := p.Change(state.MustParseAddress(addr))
	if c == nil || c.Action != want {
		e.t.Fatalf("%s: want %s, plan:\n%s", addr, want, describe(p))
	}
	return c
}

func (e *env) state() *state.State {
	e.t.Helper()
	st, err := e.be.Read(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// attr reads a state attribute of addr (path steps as in provider.GetAttr).
func (e *env) attr(addr string, path ...string) cty.Value {
	e.t.Helper()
	inst := e.state().Instance(state.MustParseAddress(addr))
	if inst == nil {
		e.t.Fatalf("%s not in state", addr)
	}
	v, err := inst.Value(e.schemaOf(addr).ImpliedType())
	if err != nil {
		e.t.Fatal(err)
	}
	v, _ = v.UnmarkDeep()
	return provider.GetAttr(v, path...)
}

func (e *env) str(addr string, path ...string) string {
	e.t.Helper()
	return provider.String(e.attr(addr, path...))
}

func (e *env) schemaOf(addr string) *provider.Schema {
	a := state.MustParseAddress(addr)
	return newTestProvider().Schema().Resources[a.Type]
}

// forget removes addr from the state, as "airctl state rm" does.
func (e *env) forget(addr string) {
	e.t.Helper()
	st := e.state()
	if !st.RemoveInstance(state.MustParseAddress(addr)) {
		e.t.Fatalf("%s not in state", addr)
	}
	if err := e.be.Write(context.Background(), st); err != nil {
		e.t.Fatal(err)
	}
}

// importID imports id to addr as "airctl import" does.
func (e *env) importID(addr, id string) {
	e.t.Helper()
	if err := e.importErr(addr, id); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) importErr(addr, id string) error {
	e.t.Helper()
	a := state.MustParseAddress(addr)
	p := newTestProvider()
	cfg, diags := config.LoadDir(e.dir)
	if diags.HasErrors() {
		e.t.Fatal(diags.Error())
	}
	if err := p.Configure(context.Background(), e.providerConfig(p)); err != nil {
		e.t.Fatal(err)
	}
	v, err := p.ImportResource(context.Background(), a.Type, id)
	if err != nil {
		return err
	}
	inst := &state.Instance{}
	if err := inst.SetValue(v); err != nil {
		e.t.Fatal(err)
	}
	st := e.state()
	if st == nil {
		st = state.New("test")
	}
	st.SetInstance(a, cfg.Resources[a.Resource().String()].ProviderAddr(), inst)
	if err := e.be.Write(context.Background(), st); err != nil {
		e.t.Fatal(err)
	}
	return nil
}

func (e *env) providerConfig(p provider.Provider) cty.Value {
	return provider.ObjectWith(p.Schema().Provider, map[string]cty.Value{
		"project":                 cty.StringVal(e.project),
		"region":                  cty.StringVal(testRegion),
		"zone":                    cty.StringVal(testZone),
		"compute_custom_endpoint": cty.StringVal(e.ep.ComputeBasePath),
		"sql_custom_endpoint":     cty.StringVal(e.ep.SQL),
		"storage_custom_endpoint": cty.StringVal(e.ep.Storage),
	})
}

// Real clients on the fake, for tests that change things behind airctl's
// back (drift) or check what the API holds.

func (e *env) storageClient() *storage.Client {
	e.t.Helper()
	c, err := storage.NewClient(e.t.Context(), option.WithEndpoint(e.ep.Storage), option.WithoutAuthentication())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) sqlService() *sqladmin.Service {
	e.t.Helper()
	svc, err := sqladmin.NewService(e.t.Context(), option.WithEndpoint(e.ep.SQL), option.WithoutAuthentication())
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) computeOpts() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(e.ep.Compute), option.WithoutAuthentication()}
}

// wait checks a compute call and waits for its operation.
func (e *env) wait(op *compute.Operation, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("call: %v", err)
	}
	if err := op.Wait(e.t.Context()); err != nil {
		e.t.Fatalf("operation: %v", err)
	}
}
