package render

import (
	"bytes"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/marks"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// vmSchema has every shape the renderer handles: primitives, a map, a
// list, a sensitive attribute, and single, list and set nested blocks
// (one nested in another).
var vmSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"id":           {Type: cty.String, Computed: true},
		"name":         {Type: cty.String, Required: true, ForceNew: true},
		"machine_type": {Type: cty.String, Optional: true},
		"labels":       {Type: cty.Map(cty.String), Optional: true},
		"tags":         {Type: cty.List(cty.String), Optional: true},
		"password":     {Type: cty.String, Optional: true, Sensitive: true},
		"size":         {Type: cty.Number, Optional: true},
		"preemptible":  {Type: cty.Bool, Optional: true},
		"zone":         {Type: cty.String, Optional: true, ForceNew: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"network_interface": {Nesting: provider.NestingList, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{
				"network": {Type: cty.String, Required: true},
				"nat_ip":  {Type: cty.String, Computed: true},
			},
			Blocks: map[string]*provider.NestedBlock{
				"access_config": {Nesting: provider.NestingSingle, Block: provider.Schema{
					Attributes: map[string]*provider.Attribute{"tier": {Type: cty.String, Optional: true}},
				}},
			},
		}},
		"disk": {Nesting: provider.NestingSet, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{
				"name": {Type: cty.String, Required: true},
				"size": {Type: cty.Number, Optional: true},
			},
		}},
		"boot": {Nesting: provider.NestingSingle, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{"image": {Type: cty.String, Required: true}},
		}},
	},
}

var nicType = vmSchema.Blocks["network_interface"].Block.ImpliedType()

func nic(network string, natIP cty.Value, tier string) cty.Value {
	ac := cty.NullVal(nicType.AttributeType("access_config"))
	if tier != "" {
		ac = cty.ObjectVal(map[string]cty.Value{"tier": cty.StringVal(tier)})
	}
	return cty.ObjectVal(map[string]cty.Value{"network": cty.StringVal(network), "nat_ip": natIP, "access_config": ac})
}

func disk(name string, size int64) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "size": cty.NumberIntVal(size)})
}

// vm is the object as it exists after apply.
func vm(mod func(map[string]cty.Value)) cty.Value {
	attrs := map[string]cty.Value{
		"id":                cty.StringVal("vm-123"),
		"name":              cty.StringVal("airflow"),
		"machine_type":      cty.StringVal("e2-highmem-2"),
		"labels":            cty.MapVal(map[string]cty.Value{"env": cty.StringVal("prod"), "team": cty.StringVal("data")}),
		"tags":              cty.ListVal([]cty.Value{cty.StringVal("http"), cty.StringVal("ssh")}),
		"password":          cty.StringVal("hunter2"),
		"size":              cty.NumberIntVal(10),
		"zone":              cty.StringVal("europe-west1-b"),
		"network_interface": cty.ListVal([]cty.Value{nic("default", cty.StringVal("203.0.113.7"), "PREMIUM")}),
		"disk":              cty.SetVal([]cty.Value{disk("data", 100), disk("logs", 20)}),
		"boot":              cty.ObjectVal(map[string]cty.Value{"image": cty.StringVal("debian-12")}),
	}
	if mod != nil {
		mod(attrs)
	}
	v := provider.ObjectWith(vmSchema, attrs)
	return v.MarkWithPaths([]cty.PathValueMarks{{Path: cty.GetAttrPath("password"), Marks: cty.NewValueMarks(marks.Sensitive)}})
}

func vmNull() cty.Value { return cty.NullVal(vmSchema.ImpliedType()) }

func addr(s string) state.Address { return state.MustParseAddress(s) }

func render(t *testing.T, p *provision.Plan, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Plan(&b, p, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPlanCreate(t *testing.T) {
	after := vm(func(a map[string]cty.Value) {
		a["id"] = cty.UnknownVal(cty.String)
		a["network_interface"] = cty.ListVal([]cty.Value{nic("default", cty.UnknownVal(cty.String), "PREMIUM")})
		a["labels"] = cty.MapValEmpty(cty.String)
	})
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr("test_vm.web"), Action: provision.Create, Before: vmNull(), After: after, Schema: vmSchema},
		{Addr: addr("test_vm.noop"), Action: provision.NoOp, Before: vm(nil), After: vm(nil), Schema: vmSchema},
	}}
	golden(t, "create", render(t, p, Options{}))
}

func TestPlanUpdateInPlace(t *testing.T) {
	after := vm(func(a map[string]cty.Value) {
		a["machine_type"] = cty.StringVal("e2-highmem-4")
		a["labels"] = cty.MapVal(map[string]cty.Value{"env": cty.StringVal("staging"), "team": cty.StringVal("data"), "owner": cty.StringVal("ops")})
		a["tags"] = cty.ListVal([]cty.Value{cty.StringVal("http"), cty.StringVal("https"), cty.StringVal("ssh")})
		a["password"] = cty.StringVal("correct horse")
		a["size"] = cty.NullVal(cty.Number)
		a["preemptible"] = cty.True
		a["network_interface"] = cty.ListVal([]cty.Value{nic("default", cty.StringVal("203.0.113.7"), "STANDARD")})
		a["disk"] = cty.SetVal([]cty.Value{disk("data", 200), disk("logs", 20)})
	})
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr(`test_vm.web["a"]`), Action: provision.Update, Before: vm(nil), After: after, Schema: vmSchema},
	}}
	golden(t, "update", render(t, p, Options{}))
}

func TestPlanReplace(t *testing.T) {
	forced := vm(func(a map[string]cty.Value) {
		a["id"] = cty.UnknownVal(cty.String)
		a["zone"] = cty.StringVal("europe-west1-c")
		a["network_interface"] = cty.ListVal([]cty.Value{nic("default", cty.UnknownVal(cty.String), "PREMIUM")})
	})
	same := vm(func(a map[string]cty.Value) { a["id"] = cty.UnknownVal(cty.String) })
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr("test_vm.a"), Action: provision.DeleteThenCreate, Before: vm(nil), After: forced, Schema: vmSchema, ReplacePaths: []cty.Path{cty.GetAttrPath("zone")}},
		{Addr: addr("test_vm.b"), Action: provision.CreateThenDelete, Before: vm(nil), After: forced, Schema: vmSchema, ReplacePaths: []cty.Path{cty.GetAttrPath("zone")}, CreateBeforeDestroy: true},
		{Addr: addr("test_vm.c[0]"), Action: provision.DeleteThenCreate, Before: vm(nil), After: same, Schema: vmSchema, Reason: "tainted: its creation did not finish"},
		{Addr: addr("test_vm.d"), Action: provision.DeleteThenCreate, Before: vm(nil), After: same, Schema: vmSchema, Reason: "requested with -replace"},
	}}
	golden(t, "replace", render(t, p, Options{}))
}

func TestPlanDestroyAndRead(t *testing.T) {
	dataSchema := &provider.Schema{Attributes: map[string]*provider.Attribute{
		"id":     {Type: cty.String, Computed: true},
		"filter": {Type: cty.String, Required: true},
	}}
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr("test_vm.old"), Action: provision.Delete, Before: vm(nil), After: vmNull(), Schema: vmSchema, Reason: "no longer in the configuration"},
		{Addr: addr("test_vm.gone"), Action: provision.Delete, Before: vm(nil), After: vmNull(), Schema: vmSchema, Reason: "destroy"},
		{Addr: addr("data.test_image.debian"), Action: provision.Read, Before: cty.NullVal(dataSchema.ImpliedType()), After: cty.UnknownVal(dataSchema.ImpliedType()), Schema: dataSchema},
	}}
	golden(t, "destroy_read", render(t, p, Options{}))
}

func TestPlanOutputs(t *testing.T) {
	create := vm(func(a map[string]cty.Value) { a["id"] = cty.UnknownVal(cty.String) })
	outs := []*provision.OutputChange{
		{Name: "ip", Before: cty.NilVal, After: cty.UnknownVal(cty.String)},
		{Name: "names", Before: cty.NilVal, After: cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{Name: "region", Before: cty.StringVal("europe-west1"), After: cty.StringVal("europe-west4")},
		{Name: "same", Before: cty.StringVal("x"), After: cty.StringVal("x")},
		{Name: "old", Before: cty.StringVal("bye"), After: cty.NilVal},
		{Name: "db_password", Before: cty.NilVal, After: cty.StringVal("s3cret"), Sensitive: true},
		{Name: "settings", Before: cty.ObjectVal(map[string]cty.Value{"tier": cty.StringVal("small"), "disk": cty.NumberIntVal(10)}), After: cty.ObjectVal(map[string]cty.Value{"tier": cty.StringVal("large"), "disk": cty.NumberIntVal(10)})},
	}
	p := &provision.Plan{
		Changes: []*provision.Change{{Addr: addr("test_vm.web"), Action: provision.Create, Before: vmNull(), After: create, Schema: vmSchema}},
		Outputs: outs,
	}
	golden(t, "outputs", render(t, p, Options{}))
	onlyOutputs := &provision.Plan{Outputs: outs}
	golden(t, "outputs_only", render(t, onlyOutputs, Options{}))
}

func TestPlanDrift(t *testing.T) {
	changed := vm(func(a map[string]cty.Value) {
		a["labels"] = cty.MapVal(map[string]cty.Value{"env": cty.StringVal("prod"), "team": cty.StringVal("web")})
	})
	p := &provision.Plan{
		Drift: []*provision.Change{
			{Addr: addr("test_vm.web"), Action: provision.Update, Before: vm(nil), After: changed, Schema: vmSchema},
			{Addr: addr("test_vm.db"), Action: provision.Delete, Before: vm(nil), After: vmNull(), Schema: vmSchema},
		},
		Changes: []*provision.Change{
			{Addr: addr("test_vm.db"), Action: provision.Create, Before: vmNull(), After: vm(func(a map[string]cty.Value) { a["id"] = cty.UnknownVal(cty.String) }), Schema: vmSchema},
			{Addr: addr("test_vm.web"), Action: provision.Update, Before: changed, After: vm(nil), Schema: vmSchema},
		},
	}
	golden(t, "drift", render(t, p, Options{}))
}

// Objects an interrupted apply created are listed before the actions;
// a plan that only adopts says what applying it does.
func TestPlanAdopted(t *testing.T) {
	adopted := []provision.Adoption{{Addr: addr("test_vm.web"), ImportID: "projects/p/zones/z/instances/web"}}
	p := &provision.Plan{
		Adopted: adopted,
		Changes: []*provision.Change{
			{Addr: addr("test_vm.web"), Action: provision.NoOp, Before: vm(nil), After: vm(nil), Schema: vmSchema},
			{Addr: addr("test_vm.db"), Action: provision.Create, Before: vmNull(), After: vm(func(a map[string]cty.Value) { a["id"] = cty.UnknownVal(cty.String) }), Schema: vmSchema},
		},
	}
	golden(t, "adopted", render(t, p, Options{}))
	golden(t, "adopted_only", render(t, &provision.Plan{Adopted: adopted, Changes: p.Changes[:1]}, Options{}))
}

func TestPlanNoChanges(t *testing.T) {
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr("test_vm.web"), Action: provision.NoOp, Before: vm(nil), After: vm(nil), Schema: vmSchema},
	}}
	golden(t, "no_changes", render(t, p, Options{}))
	golden(t, "no_changes_destroy", render(t, &provision.Plan{Destroy: true}, Options{}))
}

func TestPlanColor(t *testing.T) {
	p := &provision.Plan{Changes: []*provision.Change{
		{Addr: addr("test_vm.a"), Action: provision.DeleteThenCreate, Before: vm(nil), After: vm(func(a map[string]cty.Value) {
			a["zone"] = cty.StringVal("europe-west1-c")
		}), Schema: vmSchema, ReplacePaths: []cty.Path{cty.GetAttrPath("zone")}},
		{Addr: addr("test_vm.b"), Action: provision.Create, Before: vmNull(), After: vm(nil), Schema: vmSchema},
	}}
	out := render(t, p, Options{Color: true})
	golden(t, "color", out)
	if plain := render(t, p, Options{}); bytes.ContainsRune([]byte(plain), 0x1b) {
		t.Error("plain output contains ANSI escapes")
	}
}

// TestPlanWithoutSchema covers changes read back without a provider schema:
// every attribute renders as an attribute.
func TestPlanWithoutSchema(t *testing.T) {
	before := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("x"), "v": cty.StringVal("1")})
	after := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("x"), "v": cty.StringVal("2")})
	p := &provision.Plan{Changes: []*provision.Change{{Addr: addr("terraform_data.x"), Action: provision.Update, Before: before, After: after}}}
	golden(t, "no_schema", render(t, p, Options{}))
}
