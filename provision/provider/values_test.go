package provider

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestGetAttr(t *testing.T) {
	ty := testSchema().ImpliedType()
	v := priorState()
	v = SetAttrs(v, m{"labels": cty.MapVal(m{"team": str("data")})})
	tests := []struct {
		name string
		v    cty.Value
		path []string
		want cty.Value
	}{
		{"attribute", v, []string{"name"}, str("a")},
		{"list index", v, []string{"disk", "0", "self_link"}, str("d0")},
		{"list out of range", v, []string{"disk", "3", "self_link"}, cty.NullVal(cty.String)},
		{"map key", v, []string{"labels", "team"}, str("data")},
		{"missing map key", v, []string{"labels", "nope"}, cty.NullVal(cty.String)},
		{"single block", v, []string{"settings", "version"}, str("v1")},
		{"through null", cty.NullVal(ty), []string{"settings", "tier"}, cty.NullVal(cty.String)},
		{"through unknown", cty.UnknownVal(ty), []string{"disk", "0", "size"}, cty.UnknownVal(cty.Number)},
		{"no such attribute", v, []string{"nope", "x"}, cty.NullVal(cty.DynamicPseudoType)},
		{"bad index", v, []string{"disk", "x"}, cty.NullVal(cty.DynamicPseudoType)},
		{"into a set", v, []string{"rule", "0"}, cty.NullVal(cty.DynamicPseudoType)},
		{"into a string", v, []string{"name", "x"}, cty.NullVal(cty.DynamicPseudoType)},
		{"no path", v, nil, v},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertValue(t, GetAttr(tt.v, tt.path...), tt.want)
		})
	}
	marked := SetAttrs(v, m{"secret": str("s")}).Mark("sensitive")
	if got := GetAttr(marked, "secret"); !got.HasMark("sensitive") {
		t.Errorf("GetAttr dropped the mark: %#v", got)
	}
}

func TestSetAttrsAndObjectWith(t *testing.T) {
	s := testSchema()
	empty := ObjectWith(s, nil)
	if got := empty.GetAttr("disk"); !got.RawEquals(cty.ListValEmpty(got.Type().ElementType())) {
		t.Errorf("list block = %#v, want empty list", got)
	}
	if got := empty.GetAttr("rule"); got.LengthInt() != 0 || !got.Type().IsSetType() {
		t.Errorf("set block = %#v, want empty set", got)
	}
	if got := empty.GetAttr("settings"); !got.IsNull() {
		t.Errorf("single block = %#v, want null", got)
	}
	v := SetAttrs(empty, m{"size": num(3), "name": cty.NullVal(cty.DynamicPseudoType)})
	assertValue(t, v.GetAttr("size"), num(3))
	assertValue(t, v.GetAttr("name"), cty.NullVal(cty.String))
	assertValue(t, empty.GetAttr("size"), cty.NullVal(cty.Number)) // copy, not changed in place

	fromNull := SetAttrs(cty.NullVal(s.ImpliedType()), m{"name": str("n")})
	assertValue(t, fromNull.GetAttr("name"), str("n"))

	for name, fn := range map[string]func(){
		"unknown attribute":   func() { SetAttrs(empty, m{"nope": str("x")}) },
		"wrong type":          func() { SetAttrs(empty, m{"size": str("big")}) },
		"not an object":       func() { SetAttrs(str("x"), nil) },
		"ObjectWith bad name": func() { ObjectWith(s, m{"nope": str("x")}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			fn()
		})
	}
}

func TestChangedAndReaders(t *testing.T) {
	prior := priorState()
	planned := SetAttrs(prior, m{"size": num(2), "labels": cty.MapVal(m{"a": str("b")})})
	tests := []struct {
		path []string
		want bool
	}{
		{[]string{"size"}, true},
		{[]string{"name"}, false},
		{[]string{"labels"}, true},
		{[]string{"disk", "0", "size"}, false},
		{[]string{"missing"}, false},
	}
	for _, tt := range tests {
		if got := Changed(prior, planned, tt.path...); got != tt.want {
			t.Errorf("Changed(%v) = %v", tt.path, got)
		}
	}
	if !Changed(prior, SetAttrs(prior, m{"size": cty.UnknownVal(cty.Number)}), "size") {
		t.Error("unknown must count as changed")
	}
	if n, ok := Int(planned, "size"); !ok || n != 2 {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if _, ok := Int(SetAttrs(planned, m{"size": cty.NumberFloatVal(1.5)}), "size"); ok {
		t.Error("Int of 1.5 must fail")
	}
	if got := String(planned, "disk", "0", "type"); got != "ssd" {
		t.Errorf("String = %q", got)
	}
	if got := String(planned, "secret"); got != "" {
		t.Errorf("String of null = %q", got)
	}
	if !Bool(planned, true, "missing") {
		t.Error("Bool default")
	}
	if got := StringMap(planned, "labels"); len(got) != 1 || got["a"] != "b" {
		t.Errorf("StringMap = %v", got)
	}
	assertValue(t, StringMapVal(nil), cty.NullVal(cty.Map(cty.String)))
	assertValue(t, StringMapVal(map[string]string{}), cty.MapValEmpty(cty.String))
	assertValue(t, StringMapVal(map[string]string{"a": "b"}), cty.MapVal(m{"a": str("b")}))
}

func TestConformState(t *testing.T) {
	s := testSchema()
	ty := s.ImpliedType()
	withNullBlocks := SetAttrs(priorState(), m{"disk": cty.NullVal(ty.AttributeType("disk")), "rule": cty.NullVal(ty.AttributeType("rule"))})
	got, err := conformState(s, withNullBlocks)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.GetAttr("disk"); d.IsNull() || d.LengthInt() != 0 {
		t.Errorf("null list block not normalised: %#v", d)
	}
	_, err = conformState(s, SetAttrs(priorState(), m{"disk": list(disk(m{"self_link": unknownStr}))}))
	if err == nil || err.Error() != "provider returned unknown value for disk[0].self_link after apply" {
		t.Errorf("err = %v", err)
	}
	if _, err := conformState(s, cty.ObjectVal(m{"x": str("y")})); err == nil {
		t.Error("wrong type accepted")
	}
	if got, err := conformState(s, cty.NilVal); err != nil || !got.IsNull() {
		t.Errorf("NilVal = %#v, %v", got, err)
	}
}
