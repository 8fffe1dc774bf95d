package state

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/marks"
)

func userType() cty.Type {
	return cty.Object(map[string]cty.Type{
		"name":     cty.String,
		"password": cty.String,
		"port":     cty.Number,
		"settings": cty.List(cty.Object(map[string]cty.Type{"tier": cty.String, "key": cty.String})),
		"labels":   cty.Map(cty.String),
		"tags":     cty.Set(cty.String),
	})
}

func userValue() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":     cty.StringVal("airflow"),
		"password": cty.StringVal("s3cret").Mark(Sensitive),
		"port":     cty.NumberIntVal(5432),
		"settings": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
			"tier": cty.StringVal("db-custom-1-3840"),
			"key":  cty.StringVal("k3y").Mark(Sensitive),
		})}),
		"labels": cty.MapVal(map[string]cty.Value{"team": cty.StringVal("data").Mark(Sensitive), "env": cty.StringVal("prod")}),
		"tags":   cty.SetVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
	})
}

func TestInstanceCtyRoundTrip(t *testing.T) {
	var in Instance
	if err := in.SetValue(userValue()); err != nil {
		t.Fatal(err)
	}
	wantPaths := []string{`labels["team"]`, "password", "settings[0].key"}
	if !slices.Equal(in.SensitiveAttributes, wantPaths) {
		t.Fatalf("SensitiveAttributes = %q, want %q", in.SensitiveAttributes, wantPaths)
	}
	got, err := in.Value(userType())
	if err != nil {
		t.Fatal(err)
	}
	if !got.RawEquals(userValue()) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, userValue())
	}
}

func TestInstanceValueWrongType(t *testing.T) {
	in := Instance{Attributes: json.RawMessage(`{"name": "x", "port": "not a number"}`)}
	ty := cty.Object(map[string]cty.Type{"name": cty.String, "port": cty.Number})
	if _, err := in.Value(ty); err == nil {
		t.Fatal("Value accepted attributes that do not fit the schema")
	}
}

func TestSetValueRejectsUnknown(t *testing.T) {
	var in Instance
	v := cty.ObjectVal(map[string]cty.Value{"id": cty.UnknownVal(cty.String)})
	if err := in.SetValue(v); err == nil {
		t.Fatal("SetValue stored an unknown value")
	}
	if err := in.SetValue(cty.StringVal("x")); err == nil {
		t.Fatal("SetValue stored a non-object")
	}
}

func TestOutputCtyRoundTrip(t *testing.T) {
	v := cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1)})
	o, err := NewOutput(v, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.CtyValue()
	if err != nil || !got.RawEquals(v) || o.Sensitive {
		t.Fatalf("output round trip = %#v, %v (sensitive %v)", got, err, o.Sensitive)
	}
	secret, _ := NewOutput(cty.StringVal("pw").Mark(Sensitive), false)
	got, _ = secret.CtyValue()
	if !secret.Sensitive || !got.HasMark(Sensitive) {
		t.Fatal("a marked output must be stored and read back as sensitive")
	}
}

func TestPathRoundTrip(t *testing.T) {
	for _, s := range []string{"", "password", "settings[0].tier", `labels["a.b \"c\""]`, `m["$${x}"].y[3]`} {
		p, err := ParsePath(s)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", s, err)
		}
		if got := FormatPath(p); got != s {
			t.Errorf("FormatPath(ParsePath(%q)) = %q", s, got)
		}
	}
	set := cty.GetAttrPath("tags").Index(cty.StringVal("a")).GetAttr("x")
	set[1] = cty.IndexStep{Key: cty.ObjectVal(map[string]cty.Value{"a": cty.True})}
	if got := FormatPath(set); got != "tags" {
		t.Errorf("a path through a set element should stop at the set, got %q", got)
	}
}

// The config loader and the engine mark with provision/marks; state must
// recognise those marks, not only its own name for them.
func TestSharedSensitiveMark(t *testing.T) {
	var in Instance
	v := cty.ObjectVal(map[string]cty.Value{"pw": cty.StringVal("x").Mark(marks.Sensitive)})
	if err := in.SetValue(v); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.SensitiveAttributes, []string{"pw"}) {
		t.Fatalf("a provision/marks.Sensitive value was not recorded: %q", in.SensitiveAttributes)
	}
}

func TestDynamicAttributesRoundTrip(t *testing.T) {
	ty := cty.Object(map[string]cty.Type{"id": cty.String, "input": cty.DynamicPseudoType})
	v := cty.ObjectVal(map[string]cty.Value{
		"id":    cty.StringVal("x"),
		"input": cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "l": cty.TupleVal([]cty.Value{cty.StringVal("s")})}),
	})
	var in Instance
	if err := in.SetValue(v); err != nil {
		t.Fatal(err)
	}
	got, err := in.Value(ty)
	if err != nil {
		t.Fatalf("read back dynamic attribute: %v", err)
	}
	if !got.GetAttr("input").GetAttr("a").RawEquals(cty.NumberIntVal(1)) || got.GetAttr("id").AsString() != "x" {
		t.Fatalf("round trip = %#v", got)
	}
}
