package provider

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestSchemaValidate(t *testing.T) {
	if err := testSchema().Validate(); err != nil {
		t.Fatalf("test schema: %v", err)
	}
	attr := func(a *Attribute) *Schema { return &Schema{Attributes: map[string]*Attribute{"a": a}} }
	block := func(nb *NestedBlock) *Schema { return &Schema{Blocks: map[string]*NestedBlock{"b": nb}} }
	tests := []struct {
		name   string
		schema *Schema
		want   string
	}{
		{"nil schema", nil, "schema is nil"},
		{"nil attribute", attr(nil), "attribute a: is nil"},
		{"no type", attr(&Attribute{Optional: true}), "has no type"},
		{"no mode", attr(&Attribute{Type: cty.String}), "must be required, optional or computed"},
		{"required+optional", attr(&Attribute{Type: cty.String, Required: true, Optional: true}), "required cannot be combined"},
		{"required+computed", attr(&Attribute{Type: cty.String, Required: true, Computed: true}), "required cannot be combined"},
		{"forcenew computed-only", attr(&Attribute{Type: cty.String, Computed: true, ForceNew: true}), "computed-only"},
		{"default without computed", attr(&Attribute{Type: cty.String, Optional: true, Default: str("x")}), "a default requires optional and computed"},
		{"default of wrong type", attr(&Attribute{Type: cty.Number, Optional: true, Computed: true, Default: str("x")}), "does not match the type"},
		{"null default", attr(&Attribute{Type: cty.String, Optional: true, Computed: true, Default: cty.NullVal(cty.String)}), "known, non-null"},
		{"bad name", &Schema{Attributes: map[string]*Attribute{"a-b c": {Type: cty.String, Optional: true}}}, "not a valid identifier"},
		{"nil block", block(nil), "block b: is nil"},
		{"bad nesting", block(&NestedBlock{Nesting: 9}), "unknown nesting mode"},
		{"min > max", block(&NestedBlock{Nesting: NestingList, MinItems: 3, MaxItems: 2}), "MinItems is greater"},
		{"negative", block(&NestedBlock{Nesting: NestingList, MinItems: -1}), "cannot be negative"},
		{"single with two", block(&NestedBlock{Nesting: NestingSingle, MaxItems: 2}), "at most one"},
		{"name clash", &Schema{
			Attributes: map[string]*Attribute{"x": {Type: cty.String, Optional: true}},
			Blocks:     map[string]*NestedBlock{"x": {Nesting: NestingSingle}},
		}, "block x: an attribute has the same name"},
		{"dynamic inside list", block(&NestedBlock{Nesting: NestingList, Block: *attr(&Attribute{Type: cty.DynamicPseudoType, Optional: true})}), "attribute b.a: a dynamic type is not allowed"},
		{"nested error path", block(&NestedBlock{Nesting: NestingSingle, Block: *attr(&Attribute{Optional: true})}), "attribute b.a: has no type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.schema.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSchemaValidateReportsEveryProblem(t *testing.T) {
	s := &Schema{Attributes: map[string]*Attribute{"a": {Optional: true}, "b": {Type: cty.String}}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "attribute a") || !strings.Contains(err.Error(), "attribute b") {
		t.Fatalf("err = %v, want both attributes named", err)
	}
}

func TestSensitivePaths(t *testing.T) {
	ty := testSchema().ImpliedType()
	withRules := func(rules ...cty.Value) cty.Value {
		return val(m{"name": str("a"), "rule": set(rules...)})
	}
	tokenRule := rule(m{"port": num(1), "token": str("t")})
	tests := []struct {
		name string
		v    cty.Value
		want []string
	}{
		{"null object", cty.NullVal(ty), nil},
		{"unset sensitive attribute", val(m{"name": str("a")}), nil},
		{"top-level", val(m{"secret": str("s")}), []string{"secret"}},
		{"unknown counts", val(m{"secret": unknownStr}), []string{"secret"}},
		{"single block", val(m{"settings": settings(m{"tier": str("t"), "password": str("p")})}), []string{"settings.password"}},
		{"set element", withRules(tokenRule, rule(m{"port": num(2)})), []string{"rule[*].token"}},
		{"unknown set", val(m{"rule": cty.UnknownVal(ty.AttributeType("rule"))}), []string{"rule"}},
		{"wholly unknown object", cty.UnknownVal(ty), []string{""}},
		{"marked input is fine", val(m{"secret": str("s").Mark("x")}), []string{"secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertPaths(t, testSchema().SensitivePaths(tt.v), tt.want...)
		})
	}
	// A set path must address the element by value, so MarkWithPaths works.
	v := withRules(tokenRule)
	marked := v.MarkWithPaths([]cty.PathValueMarks{{Path: testSchema().SensitivePaths(v)[0], Marks: cty.NewValueMarks("sensitive")}})
	if !marked.GetAttr("rule").HasMark("sensitive") {
		t.Fatalf("set element path did not mark the set: %#v", marked)
	}
}

func TestAttributeByPath(t *testing.T) {
	s := testSchema()
	tests := []struct {
		path cty.Path
		want *Attribute
	}{
		{cty.GetAttrPath("name"), s.Attributes["name"]},
		{cty.GetAttrPath("disk").IndexInt(0).GetAttr("size"), s.Blocks["disk"].Block.Attributes["size"]},
		{cty.GetAttrPath("settings").GetAttr("tier"), s.Blocks["settings"].Block.Attributes["tier"]},
		{cty.GetAttrPath("rule").Index(cty.StringVal("x")).GetAttr("port"), s.Blocks["rule"].Block.Attributes["port"]},
		{cty.GetAttrPath("disk"), nil},
		{cty.GetAttrPath("disk").GetAttr("size"), nil},
		{cty.GetAttrPath("labels").IndexString("k"), nil},
		{cty.GetAttrPath("nope"), nil},
		{cty.IndexIntPath(0), nil},
	}
	for _, tt := range tests {
		if got := s.AttributeByPath(tt.path); got != tt.want {
			t.Errorf("AttributeByPath(%s) = %p, want %p", FormatPath(tt.path), got, tt.want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	s := testSchema()
	if err := s.CheckConfig(configFor(nil)); err != nil {
		t.Fatalf("clean config: %v", err)
	}
	bad := configFor(m{
		"id":       str("x"),
		"settings": settings(m{"tier": str("t"), "version": str("v")}),
		"disk":     list(disk(m{"self_link": str("l")})),
	})
	err := s.CheckConfig(bad)
	for _, want := range []string{"cannot set id", "cannot set settings.version", "cannot set disk[0].self_link"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestFormatPath(t *testing.T) {
	tests := []struct {
		p    cty.Path
		want string
	}{
		{cty.Path{}, ""},
		{cty.GetAttrPath("a").IndexInt(2).GetAttr("b"), "a[2].b"},
		{cty.GetAttrPath("labels").IndexString(`te"am`), `labels["te\"am"]`},
		{cty.GetAttrPath("s").Index(cty.ObjectVal(m{"x": str("y")})), "s[*]"},
		{cty.GetAttrPath("u").Index(cty.UnknownVal(cty.Number)), "u[*]"},
	}
	for _, tt := range tests {
		if got := FormatPath(tt.p); got != tt.want {
			t.Errorf("FormatPath = %q, want %q", got, tt.want)
		}
	}
}
