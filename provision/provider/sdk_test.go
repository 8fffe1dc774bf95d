package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

var ctx = context.Background()

var itemSchema = &Schema{Attributes: map[string]*Attribute{
	"id":    {Type: cty.String, Computed: true},
	"name":  {Type: cty.String, Required: true},
	"note":  {Type: cty.String, Optional: true},
	"stamp": {Type: cty.String, Computed: true},
}}

func item(id, name string) cty.Value {
	return ObjectWith(itemSchema, m{"id": str(id), "name": str(name), "stamp": str("s")})
}

func itemConfig(name string) cty.Value {
	return ObjectWith(itemSchema, m{"name": str(name)})
}

// newSimple returns a provider whose "item" creates with id "new" and
// whose functions can be swapped per test.
func newSimple() (*Simple, *Resource) {
	r := &Resource{
		Schema: itemSchema,
		Create: func(_ context.Context, planned cty.Value) (cty.Value, error) {
			return SetAttrs(planned, m{"id": str("new"), "stamp": str("s")}), nil
		},
		Read: func(_ context.Context, current cty.Value) (cty.Value, error) { return current, nil },
		Update: func(_ context.Context, _, planned cty.Value) (cty.Value, error) {
			return planned, nil
		},
		Delete: func(context.Context, cty.Value) error { return nil },
	}
	lookup := &DataSource{
		Schema: &Schema{Attributes: map[string]*Attribute{
			"name":  {Type: cty.String, Required: true},
			"value": {Type: cty.String, Computed: true},
		}},
		Read: func(_ context.Context, config cty.Value) (cty.Value, error) {
			return SetAttrs(config, m{"value": str("v-" + String(config, "name"))}), nil
		},
	}
	return &Simple{
		Resources:   map[string]*Resource{"item": r},
		DataSources: map[string]*DataSource{"lookup": lookup},
	}, r
}

func TestSimpleValidate(t *testing.T) {
	p, _ := newSimple()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.Resources["broken"] = &Resource{Schema: itemSchema}
	p.DataSources["nods"] = &DataSource{}
	p.ProviderSchema = &Schema{Attributes: map[string]*Attribute{"x": {}}}
	err := p.Validate()
	for _, want := range []string{"resource broken: needs Create and Delete", "data source nods", "provider schema"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestSimplePlan(t *testing.T) {
	ty := itemSchema.ImpliedType()
	tests := []struct {
		name      string
		noUpdate  bool
		customize func(context.Context, cty.Value, cty.Value, *PlanResponse) error
		prior     cty.Value
		config    cty.Value
		want      cty.Value
		replace   []string
		wantErr   string
	}{
		{name: "create", prior: cty.NullVal(ty), config: itemConfig("a"),
			want: ObjectWith(itemSchema, m{"id": unknownStr, "name": str("a"), "stamp": unknownStr})},
		{name: "nil prior means create", prior: cty.NilVal, config: itemConfig("a"),
			want: ObjectWith(itemSchema, m{"id": unknownStr, "name": str("a"), "stamp": unknownStr})},
		{name: "update in place", prior: item("i", "a"), config: itemConfig("b"),
			want: SetAttrs(item("i", "a"), m{"name": str("b")})},
		{name: "no Update: any change replaces, planned as a create", noUpdate: true, prior: item("i", "a"), config: itemConfig("b"),
			want: ObjectWith(itemSchema, m{"id": unknownStr, "name": str("b"), "stamp": unknownStr}), replace: []string{"name"}},
		{name: "no Update and no change", noUpdate: true, prior: item("i", "a"), config: itemConfig("a"), want: item("i", "a")},
		{name: "destroy", prior: item("i", "a"), config: cty.NullVal(ty), want: cty.NullVal(ty)},
		{
			name: "customize fills a computed value and forces new", prior: item("i", "a"), config: itemConfig("a"),
			customize: func(_ context.Context, prior, _ cty.Value, plan *PlanResponse) error {
				plan.Planned = SetAttrs(plan.Planned, m{"stamp": str("fresh")})
				if !prior.IsNull() {
					plan.RequiresReplace = append(plan.RequiresReplace, cty.GetAttrPath("stamp"))
				}
				return nil
			},
			want:    ObjectWith(itemSchema, m{"id": unknownStr, "name": str("a"), "stamp": str("fresh")}),
			replace: []string{"stamp"},
		},
		{
			name: "customize reverting a change drops its replacement", noUpdate: true, prior: item("i", "a"), config: itemConfig("b"),
			customize: func(_ context.Context, _, _ cty.Value, plan *PlanResponse) error {
				plan.Planned = SetAttrs(plan.Planned, m{"name": str("a")})
				return nil
			},
			want: item("i", "a"),
		},
		{
			name: "customize introducing a change without Update replaces", noUpdate: true, prior: item("i", "a"), config: itemConfig("a"),
			customize: func(_ context.Context, prior, _ cty.Value, plan *PlanResponse) error {
				plan.Planned = SetAttrs(plan.Planned, m{"note": str("n")})
				return nil
			},
			want:    ObjectWith(itemSchema, m{"id": unknownStr, "name": str("a"), "note": str("n"), "stamp": unknownStr}),
			replace: []string{"note"},
		},
		{
			name: "customize removing a path it was given", noUpdate: true, prior: item("i", "a"), config: itemConfig("b"),
			customize: func(_ context.Context, _, _ cty.Value, plan *PlanResponse) error {
				plan.RequiresReplace = nil
				return nil
			},
			want: SetAttrs(item("i", "a"), m{"name": str("b")}),
		},
		{
			name: "customize error", prior: cty.NullVal(ty), config: itemConfig("a"),
			customize: func(context.Context, cty.Value, cty.Value, *PlanResponse) error { return errors.New("bad combo") },
			wantErr:   "bad combo",
		},
		{
			name: "customize returns a wrong type", prior: cty.NullVal(ty), config: itemConfig("a"),
			customize: func(_ context.Context, _, _ cty.Value, plan *PlanResponse) error {
				plan.Planned = cty.StringVal("oops")
				return nil
			},
			wantErr: "planned value does not match the schema",
		},
		{
			name: "customize panics", prior: cty.NullVal(ty), config: itemConfig("a"),
			customize: func(_ context.Context, _, _ cty.Value, plan *PlanResponse) error {
				SetAttrs(plan.Planned, m{"typo": str("x")})
				return nil
			},
			wantErr: `provider panic: provider.SetAttrs: object has no attribute "typo"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r := newSimple()
			if tt.noUpdate {
				r.Update = nil
			}
			r.CustomizePlan = tt.customize
			got, err := p.PlanResource(ctx, PlanRequest{TypeName: "item", Prior: tt.prior, Config: tt.config})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertValue(t, got.Planned, tt.want)
			assertPaths(t, got.RequiresReplace, tt.replace...)
		})
	}
}

func TestSimplePlanUnsupportedType(t *testing.T) {
	p, _ := newSimple()
	_, err := p.PlanResource(ctx, PlanRequest{TypeName: "nope"})
	if !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("err = %v", err)
	}
}

func TestSimpleApply(t *testing.T) {
	ty := itemSchema.ImpliedType()
	planned := ObjectWith(itemSchema, m{"id": unknownStr, "name": str("a"), "stamp": unknownStr})
	tests := []struct {
		name    string
		setup   func(r *Resource)
		prior   cty.Value
		planned cty.Value
		want    cty.Value
		wantErr string
	}{
		{name: "create", prior: cty.NullVal(ty), planned: planned, want: item("new", "a")},
		{name: "create with marked input", prior: cty.NullVal(ty), planned: planned.Mark("sensitive"), want: item("new", "a")},
		{name: "update", prior: item("i", "a"), planned: item("i", "b"), want: item("i", "b")},
		{name: "delete", prior: item("i", "a"), planned: cty.NullVal(ty), want: cty.NullVal(ty)},
		{name: "nothing to do", prior: cty.NullVal(ty), planned: cty.NullVal(ty), want: cty.NullVal(ty)},
		{
			name: "unknown left after create",
			setup: func(r *Resource) {
				r.Create = func(_ context.Context, p cty.Value) (cty.Value, error) { return p, nil }
			},
			prior: cty.NullVal(ty), planned: planned,
			want:    ObjectWith(itemSchema, m{"name": str("a")}),
			wantErr: "provider returned unknown value for id after apply",
		},
		{
			name: "create fails but reports a half-made object",
			setup: func(r *Resource) {
				r.Create = func(context.Context, cty.Value) (cty.Value, error) {
					return ObjectWith(itemSchema, m{"id": str("half"), "name": str("a"), "stamp": unknownStr}), errors.New("not ready")
				}
			},
			prior: cty.NullVal(ty), planned: planned,
			want:    ObjectWith(itemSchema, m{"id": str("half"), "name": str("a")}),
			wantErr: "create: not ready",
		},
		{
			name: "create fails with nothing made",
			setup: func(r *Resource) {
				r.Create = func(context.Context, cty.Value) (cty.Value, error) { return cty.NilVal, errors.New("quota") }
			},
			prior: cty.NullVal(ty), planned: planned, want: cty.NullVal(ty), wantErr: "create: quota",
		},
		{
			name: "create returns nothing without error",
			setup: func(r *Resource) {
				r.Create = func(context.Context, cty.Value) (cty.Value, error) { return cty.NilVal, nil }
			},
			prior: cty.NullVal(ty), planned: planned, want: cty.NullVal(ty), wantErr: "provider returned no object",
		},
		{
			name: "create returns the wrong type",
			setup: func(r *Resource) {
				r.Create = func(context.Context, cty.Value) (cty.Value, error) { return str("x"), nil }
			},
			prior: cty.NullVal(ty), planned: planned, want: cty.NullVal(ty), wantErr: "does not match the schema",
		},
		{
			name: "update fails: prior kept",
			setup: func(r *Resource) {
				r.Update = func(context.Context, cty.Value, cty.Value) (cty.Value, error) {
					return cty.NilVal, errors.New("conflict")
				}
			},
			prior: item("i", "a"), planned: item("i", "b"), want: item("i", "a"), wantErr: "update: conflict",
		},
		{
			name:  "update without Update",
			setup: func(r *Resource) { r.Update = nil },
			prior: item("i", "a"), planned: item("i", "b"), want: item("i", "a"), wantErr: "cannot be updated in place",
		},
		{
			name: "delete fails: prior kept",
			setup: func(r *Resource) {
				r.Delete = func(context.Context, cty.Value) error { return errors.New("in use") }
			},
			prior: item("i", "a"), planned: cty.NullVal(ty), want: item("i", "a"), wantErr: "delete: in use",
		},
		{
			name: "create panics",
			setup: func(r *Resource) {
				r.Create = func(context.Context, cty.Value) (cty.Value, error) { panic("boom") }
			},
			prior: cty.NullVal(ty), planned: planned, want: cty.NullVal(ty), wantErr: "provider panic: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r := newSimple()
			if tt.setup != nil {
				tt.setup(r)
			}
			got, err := p.ApplyResource(ctx, ApplyRequest{TypeName: "item", Prior: tt.prior, Planned: tt.planned})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			assertValue(t, got, tt.want)
		})
	}
}

func TestSimpleReadImportData(t *testing.T) {
	p, r := newSimple()
	ty := itemSchema.ImpliedType()

	got, err := p.ReadResource(ctx, "item", item("i", "a").Mark("sensitive"))
	if err != nil {
		t.Fatal(err)
	}
	assertValue(t, got, item("i", "a"))

	r.Read = func(context.Context, cty.Value) (cty.Value, error) { return cty.NullVal(ty), nil }
	if got, err := p.ReadResource(ctx, "item", item("i", "a")); err != nil || !got.IsNull() {
		t.Fatalf("gone: %#v, %v", got, err)
	}
	r.Read = func(context.Context, cty.Value) (cty.Value, error) { return cty.NilVal, errors.New("503") }
	if got, err := p.ReadResource(ctx, "item", item("i", "a")); err == nil || !got.RawEquals(item("i", "a")) {
		t.Fatalf("read error: %#v, %v", got, err)
	}

	if _, err := p.ImportResource(ctx, "item", "x"); !errors.Is(err, ErrNotImportable) {
		t.Fatalf("import without Import: %v", err)
	}
	r.Import = func(_ context.Context, id string) (cty.Value, error) { return item(id, "imported"), nil }
	if got, err := p.ImportResource(ctx, "item", "x"); err != nil || !got.RawEquals(item("x", "imported")) {
		t.Fatalf("import: %#v, %v", got, err)
	}
	r.Import = func(context.Context, string) (cty.Value, error) { return cty.NullVal(ty), nil }
	if _, err := p.ImportResource(ctx, "item", "x"); err == nil || !strings.Contains(err.Error(), "no object with this ID") {
		t.Fatalf("import of nothing: %v", err)
	}

	cfg := cty.ObjectVal(m{"name": str("n"), "value": cty.NullVal(cty.String)})
	if got, err := p.ReadDataSource(ctx, "lookup", cfg); err != nil || String(got, "value") != "v-n" {
		t.Fatalf("data: %#v, %v", got, err)
	}
	unknownCfg := cty.ObjectVal(m{"name": unknownStr, "value": cty.NullVal(cty.String)})
	if _, err := p.ReadDataSource(ctx, "lookup", unknownCfg); err == nil || !strings.Contains(err.Error(), "known only after apply") {
		t.Fatalf("data with unknown config: %v", err)
	}
	if _, err := p.ReadDataSource(ctx, "nope", cfg); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("unknown data source: %v", err)
	}
}

func TestSimpleSchemaAndConfigure(t *testing.T) {
	p, _ := newSimple()
	ps := p.Schema()
	if ps.Provider == nil || ps.Resources["item"] != itemSchema || ps.DataSources["lookup"] == nil {
		t.Fatalf("schema = %+v", ps)
	}
	if err := p.Configure(ctx, cty.EmptyObjectVal); err != nil {
		t.Fatal(err)
	}
	var seen cty.Value
	p.ConfigureFunc = func(_ context.Context, c cty.Value) error { seen = c; return errors.New("bad creds") }
	err := p.Configure(ctx, cty.ObjectVal(m{"k": str("v").Mark("sensitive")}))
	if err == nil || seen.ContainsMarked() {
		t.Fatalf("configure: err %v, config %#v", err, seen)
	}
}

// BenchmarkPlanResource measures the per-instance cost of a plan, which a
// 1,000-resource plan pays a thousand times.
func BenchmarkPlanResource(b *testing.B) {
	p := &Simple{Resources: map[string]*Resource{"t": {
		Schema: testSchema(),
		Create: func(context.Context, cty.Value) (cty.Value, error) { return cty.NilVal, nil },
		Update: func(context.Context, cty.Value, cty.Value) (cty.Value, error) { return cty.NilVal, nil },
		Delete: func(context.Context, cty.Value) error { return nil },
	}}}
	req := PlanRequest{TypeName: "t", Prior: priorState(), Config: configFor(m{"size": num(2)})}
	for b.Loop() {
		if _, err := p.PlanResource(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
