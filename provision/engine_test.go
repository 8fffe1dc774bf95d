package provision_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/builtin"
	"github.com/airctl/airctl/provision/provider/testprovider"
	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/local"
)

// fixture is a configuration directory, a local state file and one test
// provider whose World is the "cloud".
type fixture struct {
	t    testing.TB
	dir  string
	prov *testprovider.Provider
	be   *local.Backend
	par  int
}

func newFixture(t testing.TB, files map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), prov: testprovider.New(), par: 4}
	f.write(files)
	be, err := local.New(filepath.Join(f.dir, "airctl.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	f.be = be
	return f
}

func (f *fixture) write(files map[string]string) {
	f.t.Helper()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(src), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) engine() *provision.Engine { return f.engineB(f.t) }

func (f *fixture) engineB(tb testing.TB) *provision.Engine {
	tb.Helper()
	cfg, diags := config.LoadDir(f.dir)
	if diags.HasErrors() {
		tb.Fatalf("load config: %s", diags.Error())
	}
	vars, diags := config.ResolveVariables(cfg, config.VarOptions{Dir: f.dir})
	if diags.HasErrors() {
		tb.Fatalf("variables: %s", diags.Error())
	}
	factories := map[string]provision.Factory{"test": func() provider.Provider { return f.prov }}
	for name, fn := range builtin.Providers() {
		factories[name] = provision.Factory(fn)
	}
	return &provision.Engine{Config: cfg, Providers: factories, Backend: f.be, Variables: vars, Parallelism: f.par, Version: "test"}
}

func (f *fixture) plan(opts provision.PlanOptions) *provision.Plan {
	f.t.Helper()
	p, err := f.engine().Plan(context.Background(), opts)
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	return p
}

func (f *fixture) apply(opts provision.PlanOptions) *state.State {
	f.t.Helper()
	e := f.engine()
	p, err := e.Plan(context.Background(), opts)
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	st, err := e.Apply(context.Background(), p)
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	return st
}

func actions(p *provision.Plan) map[string]provision.Action {
	out := map[string]provision.Action{}
	for _, c := range p.Changes {
		out[c.Addr.String()] = c.Action
	}
	return out
}

func mustAction(t *testing.T, p *provision.Plan, addr string, want provision.Action) {
	t.Helper()
	if got := actions(p)[addr]; got != want {
		t.Fatalf("%s: action %q, want %q (plan: %v)", addr, got, want, actions(p))
	}
}

const lifecycleConfig = `
variable "size" {
  type    = number
  default = 1
}
resource "test_thing" "a" {
  name = "alpha"
  size = var.size
}
resource "test_thing" "b" {
  name = "beta-${test_thing.a.id}"
  tags = { parent = test_thing.a.id }
}
output "b_id" { value = test_thing.b.id }
`

func TestCreateNoChangesUpdateReplaceDestroy(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": lifecycleConfig})
	p := f.plan(provision.PlanOptions{})
	mustAction(t, p, "test_thing.a", provision.Create)
	mustAction(t, p, "test_thing.b", provision.Create)
	if add, ch, del := p.Summary(); add != 2 || ch != 0 || del != 0 {
		t.Fatalf("summary %d/%d/%d", add, ch, del)
	}
	b := p.Change(state.MustParseAddress("test_thing.b"))
	if b.After.GetAttr("name").IsKnown() {
		t.Fatalf("b.name depends on a.id and must be unknown at plan time")
	}

	st := f.apply(provision.PlanOptions{})
	a, _ := f.prov.World().ByName("test_thing", "alpha")
	if _, ok := f.prov.World().ByName("test_thing", "beta-"+a.ID); !ok || f.prov.World().Len() != 2 {
		t.Fatalf("world after apply: %v", f.prov.World().Objects())
	}
	if out, ok := st.Outputs["b_id"]; !ok || len(out.Value) == 0 {
		t.Fatalf("output b_id not recorded: %+v", st.Outputs)
	}

	if again := f.plan(provision.PlanOptions{}); again.HasChanges() {
		t.Fatalf("second plan has changes: %v", actions(again))
	}

	f.write(map[string]string{"terraform.tfvars": "size = 5\n"})
	mustAction(t, f.plan(provision.PlanOptions{}), "test_thing.a", provision.Update)
	f.apply(provision.PlanOptions{})
	if obj, _ := f.prov.World().ByName("test_thing", "alpha"); !obj.Value.GetAttr("size").RawEquals(cty.NumberIntVal(5)) {
		t.Fatalf("size not updated in place: %#v", obj.Value)
	}

	f.write(map[string]string{"main.tf": strings.Replace(lifecycleConfig, `"alpha"`, `"alpha2"`, 1)})
	p = f.plan(provision.PlanOptions{})
	mustAction(t, p, "test_thing.a", provision.DeleteThenCreate)
	if c := p.Change(state.MustParseAddress("test_thing.a")); len(c.ReplacePaths) != 1 || state.FormatPath(c.ReplacePaths[0]) != "name" {
		t.Fatalf("replace paths %v, want name", c.ReplacePaths)
	}
	// b's name embeds a's id, which changes with the replacement.
	mustAction(t, p, "test_thing.b", provision.DeleteThenCreate)
	f.apply(provision.PlanOptions{})
	if _, ok := f.prov.World().ByName("test_thing", "alpha"); ok || f.prov.World().Len() != 2 {
		t.Fatalf("old object kept or duplicates: %v", f.prov.World().Objects())
	}

	st = f.apply(provision.PlanOptions{Destroy: true})
	if f.prov.World().Len() != 0 || len(st.Resources) != 0 || len(st.Outputs) != 0 {
		t.Fatalf("destroy left %d objects, %d resources, %d outputs", f.prov.World().Len(), len(st.Resources), len(st.Outputs))
	}
}

func TestCountForEachAndRemovedInstances(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
variable "n" { default = 3 }
variable "envs" { default = ["dev", "prod"] }
resource "test_thing" "c" {
  count = var.n
  name  = "c-${count.index}"
}
resource "test_thing" "e" {
  for_each = toset(var.envs)
  name     = "e-${each.key}"
  tags     = { first = test_thing.c[0].id }
}
output "ids" { value = [for t in test_thing.c : t.id] }
`})
	f.apply(provision.PlanOptions{})
	if f.prov.World().Len() != 5 {
		t.Fatalf("world has %d objects, want 5", f.prov.World().Len())
	}
	f.write(map[string]string{"terraform.tfvars": "n = 1\nenvs = [\"prod\"]\n"})
	p := f.plan(provision.PlanOptions{})
	mustAction(t, p, "test_thing.c[2]", provision.Delete)
	mustAction(t, p, "test_thing.c[1]", provision.Delete)
	mustAction(t, p, `test_thing.e["dev"]`, provision.Delete)
	mustAction(t, p, `test_thing.e["prod"]`, provision.NoOp)
	f.apply(provision.PlanOptions{})
	if f.prov.World().Len() != 2 {
		t.Fatalf("world has %d objects, want 2", f.prov.World().Len())
	}
}

func TestBoundedParallelism(t *testing.T) {
	var src strings.Builder
	for i := range 12 {
		src.WriteString("resource \"test_thing\" \"t" + string(rune('a'+i)) + "\" { name = \"n" + string(rune('a'+i)) + "\" }\n")
	}
	f := newFixture(t, map[string]string{"main.tf": src.String()})
	f.par = 3
	gate := f.prov.Block(testprovider.OpCreate, "")
	e := f.engine()
	p, err := e.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Apply(context.Background(), p)
		done <- err
	}()
	for range 3 {
		<-gate.Arrived() // three creates reach the cloud at once...
	}
	if got := f.prov.InFlight(); got != 3 {
		t.Errorf("%d operations in flight with three blocked creates, want 3", got)
	}
	gate.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.prov.MaxConcurrentOps(); got != 3 {
		t.Fatalf("%d provider operations at once with -parallelism=3, want exactly 3", got) // ...and never more
	}
	if f.prov.World().Len() != 12 {
		t.Fatalf("created %d of 12", f.prov.World().Len())
	}
}

func TestFailedCreateRecordsOthersAndRetryConverges(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "ok" { name = "ok" }
resource "test_thing" "bad" { name = "bad" }
resource "test_thing" "after_bad" {
  name = "after-${test_thing.bad.id}"
}
`})
	f.prov.FailCreate("bad", 1)
	e := f.engine()
	p, err := e.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Apply(context.Background(), p)
	if err == nil || !errors.Is(err, testprovider.ErrInjected) {
		t.Fatalf("apply error = %v, want the injected failure", err)
	}
	if st.Instance(state.MustParseAddress("test_thing.ok")) == nil || st.Instance(state.MustParseAddress("test_thing.after_bad")) != nil {
		t.Fatalf("state after failure: %v", st.Addresses())
	}
	f.apply(provision.PlanOptions{})
	if f.prov.World().Len() != 3 || f.prov.CountOps(testprovider.OpCreate) != 4 {
		t.Fatalf("after retry: %d objects, %d creates (want 3 objects, 4 creates incl. the failed one)", f.prov.World().Len(), f.prov.CountOps(testprovider.OpCreate))
	}
}

func TestLostResponseCreateIsKeptTainted(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `resource "test_thing" "x" { name = "x" }`})
	f.prov.Inject(testprovider.Fault{Kind: testprovider.OpCreate, Name: "x", AfterChange: true})
	e := f.engine()
	p, _ := e.Plan(context.Background(), provision.PlanOptions{})
	st, err := e.Apply(context.Background(), p)
	inst := st.Instance(state.MustParseAddress("test_thing.x"))
	if err == nil || inst == nil || inst.Status != state.Tainted {
		t.Fatalf("err %v, instance %+v: want the created object recorded as tainted", err, inst)
	}
	mustAction(t, f.plan(provision.PlanOptions{}), "test_thing.x", provision.DeleteThenCreate)
}

func TestInterruptedApplyFinishesInFlightAndResumes(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "slow" { name = "slow" }
resource "test_thing" "next" {
  name = "next-${test_thing.slow.id}"
}
`})
	gate := f.prov.Block(testprovider.OpCreate, "slow")
	e := f.engine()
	p, err := e.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Apply(ctx, p)
		done <- err
	}()
	<-gate.Arrived()
	cancel() // Ctrl-C while the create is in flight
	gate.Release()
	if err := <-done; err == nil {
		t.Fatal("interrupted apply returned no error")
	}
	st, _ := f.be.Read(context.Background())
	if st.Instance(state.MustParseAddress("test_thing.slow")) == nil {
		t.Fatal("the in-flight create finished but is not in state")
	}
	if st.Instance(state.MustParseAddress("test_thing.next")) != nil {
		t.Fatal("a node started after the interrupt")
	}
	p2 := f.plan(provision.PlanOptions{})
	mustAction(t, p2, "test_thing.slow", provision.NoOp)
	mustAction(t, p2, "test_thing.next", provision.Create)
	f.apply(provision.PlanOptions{})
	if f.prov.CountOps(testprovider.OpCreate) != 2 {
		t.Fatalf("%d creates, want 2 (no duplicate)", f.prov.CountOps(testprovider.OpCreate))
	}
}

func TestDriftIsDetectedAndCorrected(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "d" {
  name = "d"
  size = 2
}
resource "test_thing" "gone" { name = "gone" }
`})
	f.apply(provision.PlanOptions{})
	d, _ := f.prov.World().ByName("test_thing", "d")
	gone, _ := f.prov.World().ByName("test_thing", "gone")
	if err := f.prov.MutateOutside(d.ID, map[string]cty.Value{"size": cty.NumberIntVal(9)}); err != nil {
		t.Fatal(err)
	}
	if err := f.prov.DeleteOutside(gone.ID); err != nil {
		t.Fatal(err)
	}
	p := f.plan(provision.PlanOptions{})
	if len(p.Drift) != 2 {
		t.Fatalf("drift %d entries, want 2", len(p.Drift))
	}
	mustAction(t, p, "test_thing.d", provision.Update)
	mustAction(t, p, "test_thing.gone", provision.Create)
	noRefresh := f.plan(provision.PlanOptions{SkipRefresh: true})
	if noRefresh.HasChanges() {
		t.Fatalf("-refresh=false sees no drift, so no changes; got %v", actions(noRefresh))
	}
	f.apply(provision.PlanOptions{})
	if d, _ := f.prov.World().ByName("test_thing", "d"); !d.Value.GetAttr("size").RawEquals(cty.NumberIntVal(2)) {
		t.Fatalf("drift not corrected: %#v", d.Value)
	}
}

func TestSavedPlanRoundTripAndStaleness(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": lifecycleConfig})
	e := f.engine()
	p, err := e.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := provision.WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	loaded, err := f.engine().ReadPlan(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine().Apply(context.Background(), loaded); err != nil {
		t.Fatalf("apply saved plan: %v", err)
	}
	stale, err := f.engine().ReadPlan(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine().Apply(context.Background(), stale); !errors.Is(err, provision.ErrStalePlan) {
		t.Fatalf("re-applying a used plan: %v, want ErrStalePlan", err)
	}
	f.write(map[string]string{"extra.tf": `resource "test_thing" "z" { name = "z" }`})
	if _, err := f.engine().ReadPlan(bytes.NewReader(saved)); !errors.Is(err, provision.ErrStalePlan) {
		t.Fatalf("plan after config change: %v, want ErrStalePlan", err)
	}
}

func TestLifecycleRules(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "keep" {
  name = "keep"
  lifecycle { prevent_destroy = true }
}
resource "test_thing" "ign" {
  name = "ign"
  size = 1
  lifecycle { ignore_changes = [size] }
}
resource "test_thing" "cbd" {
  name = "cbd-1"
  lifecycle { create_before_destroy = true }
}
`})
	f.apply(provision.PlanOptions{})
	ign, _ := f.prov.World().ByName("test_thing", "ign")
	_ = f.prov.MutateOutside(ign.ID, map[string]cty.Value{"size": cty.NumberIntVal(7)})
	mustAction(t, f.plan(provision.PlanOptions{}), "test_thing.ign", provision.NoOp)

	f.write(map[string]string{"main.tf": strings.Replace(strings.Replace(readFile(t, f.dir, "main.tf"), `"cbd-1"`, `"cbd-2"`, 1), `name = "keep"`, `name = "keep2"`, 1)})
	_, err := f.engine().Plan(context.Background(), provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "prevent_destroy") {
		t.Fatalf("replacing a prevent_destroy resource: %v", err)
	}
	f.write(map[string]string{"main.tf": strings.Replace(readFile(t, f.dir, "main.tf"), `name = "keep2"`, `name = "keep"`, 1)})
	p := f.plan(provision.PlanOptions{})
	mustAction(t, p, "test_thing.cbd", provision.CreateThenDelete)
	f.apply(provision.PlanOptions{})
	if _, ok := f.prov.World().ByName("test_thing", "cbd-1"); ok {
		t.Fatal("old create_before_destroy object not deleted")
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTargetAndReplace(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "base" { name = "base" }
resource "test_thing" "dep" {
  name = "dep-${test_thing.base.id}"
}
resource "test_thing" "other" { name = "other" }
`})
	f.apply(provision.PlanOptions{Targets: []state.Address{state.MustParseAddress("test_thing.dep")}})
	if _, ok := f.prov.World().ByName("test_thing", "other"); ok || f.prov.World().Len() != 2 {
		t.Fatalf("-target applied more than dep and base: %v", f.prov.World().Objects())
	}
	f.apply(provision.PlanOptions{})
	p := f.plan(provision.PlanOptions{Replace: []state.Address{state.MustParseAddress("test_thing.other")}})
	mustAction(t, p, "test_thing.other", provision.DeleteThenCreate)
	if c := p.Change(state.MustParseAddress("test_thing.other")); c.Reason != "requested with -replace" {
		t.Fatalf("reason %q", c.Reason)
	}
}

func TestDataSourcesAndSensitiveValues(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
data "test_lookup" "known" { name = "image" }
resource "test_thing" "t" {
  name = "t-${data.test_lookup.known.value}"
}
data "test_lookup" "later" { name = test_thing.t.id }
resource "random_password" "db" { length = 20 }
resource "test_thing" "uses_secret" {
  name = "s"
  tags = { pw = random_password.db.result }
}
output "later" { value = data.test_lookup.later.value }
output "pw" {
  value     = random_password.db.result
  sensitive = true
}
`})
	f.prov.World().SetLookup("image", "debian-12")
	p := f.plan(provision.PlanOptions{})
	if c := p.Change(state.MustParseAddress("test_thing.t")); c.After.GetAttr("name").AsString() != "t-debian-12" {
		t.Fatalf("data source not read at plan time: %#v", c.After.GetAttr("name"))
	}
	mustAction(t, p, "data.test_lookup.later", provision.Read)
	st := f.apply(provision.PlanOptions{})
	pw := st.Instance(state.MustParseAddress("random_password.db"))
	if pw == nil || !strings.Contains(strings.Join(pw.SensitiveAttributes, ","), "result") {
		t.Fatalf("random_password.result not recorded sensitive: %+v", pw)
	}
	secret := st.Instance(state.MustParseAddress("test_thing.uses_secret"))
	if !strings.Contains(strings.Join(secret.SensitiveAttributes, ","), "tags") {
		t.Fatalf("sensitivity did not flow into a dependent attribute: %v", secret.SensitiveAttributes)
	}
	if !st.Outputs["pw"].Sensitive || st.Outputs["later"].Sensitive {
		t.Fatalf("output sensitivity: pw %v later %v", st.Outputs["pw"].Sensitive, st.Outputs["later"].Sensitive)
	}
	if f.plan(provision.PlanOptions{}).HasChanges() {
		t.Fatal("plan after apply has changes")
	}
}

func TestCycleIsNamed(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "a" { name = test_thing.b.id }
resource "test_thing" "b" { name = test_thing.a.id }
`})
	_, err := f.engine().Plan(context.Background(), provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "test_thing.a") || !strings.Contains(err.Error(), "test_thing.b") || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle error = %v", err)
	}
}

// failingBackend fails every write after the first `ok` ones.
type failingBackend struct {
	state.Backend
	ok int
}

func (b *failingBackend) Write(ctx context.Context, s *state.State) error {
	if b.ok <= 0 {
		return errors.New("bucket unavailable")
	}
	b.ok--
	return b.Backend.Write(ctx, s)
}

func TestStateWriteFailureStopsApplyAndIsReported(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
resource "test_thing" "a" { name = "a" }
resource "test_thing" "b" {
  name = "b-${test_thing.a.id}"
}
`})
	e := f.engine()
	e.Backend = &failingBackend{Backend: f.be}
	p, err := e.Plan(context.Background(), provision.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "save state") || !strings.Contains(err.Error(), "bucket unavailable") {
		t.Fatalf("apply error = %v, want the failed state write", err)
	}
}

func TestExpressionsAndDynamicBlocks(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": `
variable "ports" { default = [80, 443] }
variable "prod" { default = true }
locals {
  prefix = var.prod ? "prod" : "dev"
  names  = [for i in range(2) : "${local.prefix}-${i}"]
}
resource "test_thing" "n" {
  count = length(local.names)
  name  = local.names[count.index]
  tags  = merge({ idx = tostring(count.index) }, var.prod ? { tier = "gold" } : {})
  dynamic "rule" {
    for_each = var.ports
    content {
      port     = rule.value
      protocol = rule.value == 443 ? "https" : "http"
    }
  }
}
resource "test_thing" "summary" {
  name       = join(",", test_thing.n[*].name)
  depends_on = [test_thing.n]
}
output "first_rule_protocols" { value = [for r in test_thing.n[0].rule : r.protocol] }
`})
	st := f.apply(provision.PlanOptions{})
	obj, ok := f.prov.World().ByName("test_thing", "prod-0,prod-1")
	if !ok {
		t.Fatalf("splat/for/conditional not evaluated: %v", f.prov.World().Objects())
	}
	n0, _ := f.prov.World().ByName("test_thing", "prod-0")
	rules := n0.Value.GetAttr("rule")
	if rules.LengthInt() != 2 || rules.Index(cty.NumberIntVal(1)).GetAttr("protocol").AsString() != "https" {
		t.Fatalf("dynamic block not expanded: %#v", rules)
	}
	if got := string(st.Outputs["first_rule_protocols"].Value); got != `["http","https"]` {
		t.Fatalf("output first_rule_protocols = %s", got)
	}
	if tags := n0.Value.GetAttr("tags"); tags.Index(cty.StringVal("tier")).AsString() != "gold" || tags.Index(cty.StringVal("idx")).AsString() != "0" {
		t.Fatalf("merge/conditional tags = %#v", tags)
	}
	if !obj.Value.GetAttr("tags").IsNull() {
		t.Fatalf("summary has tags %#v, none configured", obj.Value.GetAttr("tags"))
	}
	dep := st.Instance(state.MustParseAddress("test_thing.summary"))
	if len(dep.Dependencies) != 1 || dep.Dependencies[0] != "test_thing.n" {
		t.Fatalf("depends_on not recorded: %v", dep.Dependencies)
	}
	if f.plan(provision.PlanOptions{}).HasChanges() {
		t.Fatal("plan after apply has changes")
	}
}

// TestCreateBeforeDestroyDeletesOldObjectAfterDependents is the managed
// certificate behind an HTTPS proxy: the old certificate may only go once
// the proxy uses the new one.
func TestCreateBeforeDestroyDeletesOldObjectAfterDependents(t *testing.T) {
	cfg := `
resource "test_thing" "cert" {
  name = "cert-1"
  lifecycle { create_before_destroy = true }
}
resource "test_thing" "proxy" {
  name = "proxy"
  tags = { cert = test_thing.cert.id }
}
`
	f := newFixture(t, map[string]string{"main.tf": cfg})
	f.apply(provision.PlanOptions{})
	var oldPresentAtProxyUpdate bool
	f.prov.SetHook(func(_ context.Context, kind testprovider.OpKind, name string) error {
		if kind == testprovider.OpUpdate && name == "proxy" {
			_, oldPresentAtProxyUpdate = f.prov.World().ByName("test_thing", "cert-1")
		}
		return nil
	})
	f.write(map[string]string{"main.tf": strings.Replace(cfg, "cert-1", "cert-2", 1)})
	p := f.plan(provision.PlanOptions{})
	mustAction(t, p, "test_thing.cert", provision.CreateThenDelete)
	mustAction(t, p, "test_thing.proxy", provision.Update)
	f.apply(provision.PlanOptions{})
	if !oldPresentAtProxyUpdate {
		t.Fatal("the old certificate was deleted before the proxy moved to the new one")
	}
	if _, ok := f.prov.World().ByName("test_thing", "cert-1"); ok {
		t.Fatal("the old certificate was never deleted")
	}
}
