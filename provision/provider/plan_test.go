package provider

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

var unknownStr = cty.UnknownVal(cty.String)

func list(vs ...cty.Value) cty.Value { return cty.ListVal(vs) }
func set(vs ...cty.Value) cty.Value  { return cty.SetVal(vs) }

// priorState is an existing object as the state records it.
func priorState() cty.Value {
	return val(m{
		"id": str("i-1"), "name": str("a"), "size": num(1), "zone": str("z1"), "mode": str("auto"),
		"disk":     list(disk(m{"size": num(10), "type": str("ssd"), "self_link": str("d0")})),
		"settings": settings(m{"tier": str("t1"), "version": str("v1")}),
		"rule":     set(rule(m{"port": num(80), "proto": str("tcp"), "rid": str("r80")})),
		"boot":     boot("debian"),
	})
}

// configFor is the configuration that produced priorState, with changes.
func configFor(changes m) cty.Value {
	base := m{
		"name": str("a"), "size": num(1),
		"disk":     list(disk(m{"size": num(10), "type": str("ssd")})),
		"settings": settings(m{"tier": str("t1")}),
		"rule":     set(rule(m{"port": num(80), "proto": str("tcp")})),
		"boot":     boot("debian"),
	}
	for k, v := range changes {
		base[k] = v
	}
	return val(base)
}

func TestDefaultPlan(t *testing.T) {
	ty := testSchema().ImpliedType()
	prior := priorState()
	tests := []struct {
		name    string
		prior   cty.Value
		config  cty.Value
		want    cty.Value // nil: planned must equal prior
		replace []string
	}{
		{
			name:   "create: computed unknown, default filled, unset optional null",
			prior:  cty.NullVal(ty),
			config: configFor(nil),
			want: val(m{
				"id": unknownStr, "name": str("a"), "size": num(1), "zone": unknownStr, "mode": str("auto"),
				"disk":     list(disk(m{"size": num(10), "type": str("ssd"), "self_link": unknownStr})),
				"settings": settings(m{"tier": str("t1"), "version": unknownStr}),
				"rule":     set(rule(m{"port": num(80), "proto": str("tcp"), "rid": unknownStr})),
				"boot":     boot("debian"),
			}),
		},
		{
			name:   "create: unknown config stays unknown, no replace without prior",
			prior:  cty.NullVal(ty),
			config: configFor(m{"name": unknownStr, "zone": unknownStr}),
			want: val(m{
				"id": unknownStr, "name": unknownStr, "size": num(1), "zone": unknownStr, "mode": str("auto"),
				"disk":     list(disk(m{"size": num(10), "type": str("ssd"), "self_link": unknownStr})),
				"settings": settings(m{"tier": str("t1"), "version": unknownStr}),
				"rule":     set(rule(m{"port": num(80), "proto": str("tcp"), "rid": unknownStr})),
				"boot":     boot("debian"),
			}),
		},
		{name: "no change keeps prior exactly", prior: prior, config: configFor(nil)},
		{
			name: "updatable change", prior: prior, config: configFor(m{"size": num(2)}),
			want: SetAttrs(prior, m{"size": num(2)}),
		},
		{
			name: "removing an optional argument plans null", prior: prior, config: configFor(m{"size": cty.NullVal(cty.Number)}),
			want: SetAttrs(prior, m{"size": cty.NullVal(cty.Number)}),
		},
		{
			name: "ForceNew change", prior: prior, config: configFor(m{"name": str("b")}),
			want: SetAttrs(prior, m{"name": str("b")}), replace: []string{"name"},
		},
		{
			name: "unknown ForceNew value counts as a change", prior: prior, config: configFor(m{"name": unknownStr}),
			want: SetAttrs(prior, m{"name": unknownStr}), replace: []string{"name"},
		},
		{
			name: "unknown updatable value is no replacement", prior: prior, config: configFor(m{"size": cty.UnknownVal(cty.Number)}),
			want: SetAttrs(prior, m{"size": cty.UnknownVal(cty.Number)}),
		},
		{
			name: "optional+computed set to a new value forces new", prior: prior, config: configFor(m{"zone": str("z2")}),
			want: SetAttrs(prior, m{"zone": str("z2")}), replace: []string{"zone"},
		},
		{
			name: "default comes back when the argument is removed", prior: SetAttrs(prior, m{"mode": str("manual")}), config: configFor(nil),
			want: prior,
		},
		{
			name: "computed-only value in config is ignored", prior: prior, config: configFor(m{"id": str("other")}),
		},
		{
			name: "map attribute change", prior: prior, config: configFor(m{"labels": cty.MapVal(m{"a": str("1")})}),
			want: SetAttrs(prior, m{"labels": cty.MapVal(m{"a": str("1")})}),
		},
		{
			name:   "list: existing element keeps computed, new element unknown",
			prior:  prior,
			config: configFor(m{"disk": list(disk(m{"size": num(10), "type": str("hdd")}), disk(m{"type": str("ssd")}))}),
			want: SetAttrs(prior, m{"disk": list(
				disk(m{"size": num(10), "type": str("hdd"), "self_link": str("d0")}),
				disk(m{"type": str("ssd"), "self_link": unknownStr}),
			)}),
		},
		{
			name:   "list: added element with a ForceNew value replaces",
			prior:  prior,
			config: configFor(m{"disk": list(disk(m{"size": num(10), "type": str("ssd")}), disk(m{"size": num(5)}))}),
			want: SetAttrs(prior, m{"disk": list(
				disk(m{"size": num(10), "type": str("ssd"), "self_link": str("d0")}),
				disk(m{"size": num(5), "self_link": unknownStr}),
			)}),
			replace: []string{"disk[1].size"},
		},
		{
			name:    "list: ForceNew attribute changed in an element",
			prior:   prior,
			config:  configFor(m{"disk": list(disk(m{"size": num(20), "type": str("ssd")}))}),
			want:    SetAttrs(prior, m{"disk": list(disk(m{"size": num(20), "type": str("ssd"), "self_link": str("d0")}))}),
			replace: []string{"disk[0].size"},
		},
		{
			name:    "list: removed element with a ForceNew value replaces",
			prior:   prior,
			config:  configFor(m{"disk": cty.ListValEmpty(ty.AttributeType("disk").ElementType())}),
			want:    SetAttrs(prior, m{"disk": cty.ListValEmpty(ty.AttributeType("disk").ElementType())}),
			replace: []string{"disk[0].size"},
		},
		{
			name:    "list: unknown (dynamic block) stays unknown and may replace",
			prior:   prior,
			config:  configFor(m{"disk": cty.UnknownVal(ty.AttributeType("disk"))}),
			want:    SetAttrs(prior, m{"disk": cty.UnknownVal(ty.AttributeType("disk"))}),
			replace: []string{"disk"},
		},
		{
			name:   "single: computed kept, change in place",
			prior:  prior,
			config: configFor(m{"settings": settings(m{"tier": str("t2")})}),
			want:   SetAttrs(prior, m{"settings": settings(m{"tier": str("t2"), "version": str("v1")})}),
		},
		{
			name:   "single: removed block plans null",
			prior:  prior,
			config: configFor(m{"settings": cty.NullVal(ty.AttributeType("settings"))}),
			want:   SetAttrs(prior, m{"settings": cty.NullVal(ty.AttributeType("settings"))}),
		},
		{
			name:    "ForceNew block changed",
			prior:   prior,
			config:  configFor(m{"boot": boot("ubuntu")}),
			want:    SetAttrs(prior, m{"boot": boot("ubuntu")}),
			replace: []string{"boot"},
		},
		{
			name:   "set: same element keeps computed, new element unknown",
			prior:  prior,
			config: configFor(m{"rule": set(rule(m{"port": num(80), "proto": str("tcp")}), rule(m{"port": num(443), "proto": str("tcp")}))}),
			want: SetAttrs(prior, m{"rule": set(
				rule(m{"port": num(80), "proto": str("tcp"), "rid": str("r80")}),
				rule(m{"port": num(443), "proto": str("tcp"), "rid": unknownStr}),
			)}),
		},
		{
			name:   "set: non-ForceNew change inside an element is in place",
			prior:  prior,
			config: configFor(m{"rule": set(rule(m{"port": num(8080), "proto": str("tcp")}))}),
			want:   SetAttrs(prior, m{"rule": set(rule(m{"port": num(8080), "proto": str("tcp"), "rid": unknownStr}))}),
		},
		{
			name:    "set: ForceNew change inside an element replaces at the set",
			prior:   prior,
			config:  configFor(m{"rule": set(rule(m{"port": num(80), "proto": str("udp")}))}),
			want:    SetAttrs(prior, m{"rule": set(rule(m{"port": num(80), "proto": str("udp"), "rid": unknownStr}))}),
			replace: []string{"rule"},
		},
		{
			name:   "set: unknown element value",
			prior:  prior,
			config: configFor(m{"rule": set(rule(m{"port": cty.UnknownVal(cty.Number), "proto": str("tcp")}))}),
			want:   SetAttrs(prior, m{"rule": set(rule(m{"port": cty.UnknownVal(cty.Number), "proto": str("tcp"), "rid": unknownStr}))}),
		},
		{
			name: "destroy: null config plans null", prior: prior, config: cty.NullVal(ty), want: cty.NullVal(ty),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPlan(testSchema(), tt.prior, tt.config)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == cty.NilVal {
				want = tt.prior
			}
			assertValue(t, got.Planned, want)
			assertPaths(t, got.RequiresReplace, tt.replace...)
		})
	}
}

func TestDefaultPlanKeepsMarks(t *testing.T) {
	prior := priorState()
	config := configFor(m{
		"secret":   str("s").Mark("sensitive"),
		"settings": settings(m{"tier": str("t1").Mark("sensitive")}),
		"rule":     set(rule(m{"port": num(80), "proto": str("tcp"), "token": str("x").Mark("sensitive")})),
	})
	got, err := DefaultPlan(testSchema(), prior, config)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []cty.Path{cty.GetAttrPath("secret"), cty.GetAttrPath("settings").GetAttr("tier"), cty.GetAttrPath("rule")} {
		v, err := p.Apply(got.Planned)
		if err != nil {
			t.Fatal(err)
		}
		if !v.HasMark("sensitive") {
			t.Errorf("%s lost its sensitive mark", FormatPath(p))
		}
	}
	if v := got.Planned.GetAttr("size"); v.IsMarked() {
		t.Errorf("size should not be marked")
	}
}

func TestDefaultPlanErrors(t *testing.T) {
	ty := testSchema().ImpliedType()
	tests := []struct {
		name          string
		prior, config cty.Value
		want          string
	}{
		{"wholly unknown config", cty.NullVal(ty), cty.UnknownVal(ty), "must be a known object"},
		{"config of another type", cty.NullVal(ty), cty.ObjectVal(m{"nope": str("x")}), "configuration does not match"},
		{"prior with unknowns", SetAttrs(priorState(), m{"id": unknownStr}), configFor(nil), "prior state contains unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DefaultPlan(testSchema(), tt.prior, tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDefaultPlanDynamic(t *testing.T) {
	s := &Schema{Attributes: map[string]*Attribute{
		"input":  {Type: cty.DynamicPseudoType, Optional: true},
		"output": {Type: cty.DynamicPseudoType, Computed: true},
		"tr":     {Type: cty.DynamicPseudoType, Optional: true, ForceNew: true},
	}}
	obj := func(in, out, tr cty.Value) cty.Value {
		return cty.ObjectVal(m{"input": in, "output": out, "tr": tr})
	}
	dynNull := cty.NullVal(cty.DynamicPseudoType)
	tests := []struct {
		name          string
		prior, config cty.Value
		want          cty.Value
		replace       []string
	}{
		{"create", cty.NullVal(s.ImpliedType()), obj(str("x"), dynNull, dynNull), obj(str("x"), cty.DynamicVal, dynNull), nil},
		{"same", obj(str("x"), str("x"), num(1)), obj(str("x"), dynNull, num(1)), obj(str("x"), str("x"), num(1)), nil},
		{"type change of trigger", obj(str("x"), str("x"), num(1)), obj(str("x"), dynNull, str("1")), obj(str("x"), str("x"), str("1")), []string{"tr"}},
		{"tuple trigger unchanged", obj(dynNull, dynNull, cty.TupleVal([]cty.Value{str("a")})), obj(dynNull, dynNull, cty.TupleVal([]cty.Value{str("a")})), obj(dynNull, dynNull, cty.TupleVal([]cty.Value{str("a")})), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPlan(s, tt.prior, tt.config)
			if err != nil {
				t.Fatal(err)
			}
			assertValue(t, got.Planned, tt.want)
			assertPaths(t, got.RequiresReplace, tt.replace...)
		})
	}
}
