package provider

import (
	"sort"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// testSchema exercises every planning rule: computed, optional+computed,
// defaults, ForceNew attributes and blocks, and all three nestings.
func testSchema() *Schema {
	return &Schema{
		Attributes: map[string]*Attribute{
			"id":     {Type: cty.String, Computed: true},
			"name":   {Type: cty.String, Required: true, ForceNew: true},
			"size":   {Type: cty.Number, Optional: true},
			"zone":   {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
			"mode":   {Type: cty.String, Optional: true, Computed: true, Default: cty.StringVal("auto")},
			"secret": {Type: cty.String, Optional: true, Sensitive: true},
			"labels": {Type: cty.Map(cty.String), Optional: true},
		},
		Blocks: map[string]*NestedBlock{
			"disk": {Nesting: NestingList, Block: Schema{Attributes: map[string]*Attribute{
				"size":      {Type: cty.Number, Optional: true, ForceNew: true},
				"type":      {Type: cty.String, Optional: true},
				"self_link": {Type: cty.String, Computed: true},
			}}},
			"settings": {Nesting: NestingSingle, Block: Schema{Attributes: map[string]*Attribute{
				"tier":     {Type: cty.String, Required: true},
				"version":  {Type: cty.String, Computed: true},
				"password": {Type: cty.String, Optional: true, Sensitive: true},
			}}},
			"rule": {Nesting: NestingSet, Block: Schema{Attributes: map[string]*Attribute{
				"port":  {Type: cty.Number, Required: true},
				"proto": {Type: cty.String, Optional: true, ForceNew: true},
				"rid":   {Type: cty.String, Computed: true},
				"token": {Type: cty.String, Optional: true, Sensitive: true},
			}}},
			"boot": {Nesting: NestingSingle, ForceNew: true, Block: Schema{Attributes: map[string]*Attribute{
				"image": {Type: cty.String, Optional: true},
			}}},
		},
	}
}

// val builds a top-level value; blocks are given with disk/settings/rule.
func val(attrs map[string]cty.Value) cty.Value {
	return ObjectWith(testSchema(), attrs)
}

func disk(attrs map[string]cty.Value) cty.Value {
	return ObjectWith(&testSchema().Blocks["disk"].Block, attrs)
}

func settings(attrs map[string]cty.Value) cty.Value {
	return ObjectWith(&testSchema().Blocks["settings"].Block, attrs)
}

func rule(attrs map[string]cty.Value) cty.Value {
	return ObjectWith(&testSchema().Blocks["rule"].Block, attrs)
}

func boot(image string) cty.Value {
	return ObjectWith(&testSchema().Blocks["boot"].Block, map[string]cty.Value{"image": cty.StringVal(image)})
}

// m shortens map literals in tables.
type m = map[string]cty.Value

func str(s string) cty.Value { return cty.StringVal(s) }
func num(n int64) cty.Value  { return cty.NumberIntVal(n) }

func pathStrings(ps []cty.Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = FormatPath(p)
	}
	sort.Strings(out)
	return out
}

func assertPaths(t *testing.T, got []cty.Path, want ...string) {
	t.Helper()
	gs := pathStrings(got)
	sort.Strings(want)
	if len(gs) != len(want) {
		t.Fatalf("paths = %q, want %q", gs, want)
	}
	for i := range gs {
		if gs[i] != want[i] {
			t.Fatalf("paths = %q, want %q", gs, want)
		}
	}
}

func assertValue(t *testing.T, got, want cty.Value) {
	t.Helper()
	if !got.RawEquals(want) {
		t.Fatalf("value mismatch\n got: %#v\nwant: %#v", got, want)
	}
}
