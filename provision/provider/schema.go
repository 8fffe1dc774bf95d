package provider

import (
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Schema describes a configuration block: its attributes and nested blocks.
type Schema struct {
	Attributes  map[string]*Attribute
	Blocks      map[string]*NestedBlock
	Description string
}

// Attribute is one argument or exported value of a block.
type Attribute struct {
	Type        cty.Type
	Description string
	Required    bool
	Optional    bool
	// Computed: the provider may set it; unset in config it is unknown
	// until apply on create and keeps its prior value on update.
	Computed  bool
	Sensitive bool
	// ForceNew: a change replaces the object (the API cannot update it).
	ForceNew bool
	// Default, when not cty.NilVal, is planned whenever the configuration
	// leaves the attribute unset (Optional+Computed only). Unlike a plain
	// Computed attribute, removing the argument from the configuration
	// therefore goes back to the default, as in Terraform's plugin
	// framework, instead of silently keeping the prior value.
	Default cty.Value
}

// Nesting is how a nested block repeats.
type Nesting int

// Nesting modes, as in Terraform.
const (
	NestingSingle Nesting = iota // at most one block, an object (null when absent)
	NestingList                  // ordered blocks, a list of objects
	NestingSet                   // unordered blocks, a set of objects
)

// NestedBlock is a block type allowed inside a Schema.
type NestedBlock struct {
	Nesting  Nesting
	Block    Schema
	MinItems int
	MaxItems int
	ForceNew bool
}

// ImpliedType is the cty object type of a block's value.
func (s *Schema) ImpliedType() cty.Type {
	return hcldec.ImpliedType(s.DecoderSpec())
}

// DecoderSpec decodes an hcl body into the block's value; hcldec reports
// unknown arguments and wrong types with their source ranges.
func (s *Schema) DecoderSpec() hcldec.Spec {
	spec := hcldec.ObjectSpec{}
	for _, name := range sortedKeys(s.Attributes) {
		a := s.Attributes[name]
		spec[name] = &hcldec.AttrSpec{Name: name, Type: a.Type, Required: a.Required}
	}
	for _, name := range sortedKeys(s.Blocks) {
		spec[name] = s.Blocks[name].spec(name)
	}
	return spec
}

func (b *NestedBlock) spec(name string) hcldec.Spec {
	inner := b.Block.DecoderSpec()
	switch b.Nesting {
	case NestingList:
		return &hcldec.BlockListSpec{TypeName: name, Nested: inner, MinItems: b.MinItems, MaxItems: b.MaxItems}
	case NestingSet:
		return &hcldec.BlockSetSpec{TypeName: name, Nested: inner, MinItems: b.MinItems, MaxItems: b.MaxItems}
	default:
		return &hcldec.BlockSpec{TypeName: name, Nested: inner, Required: b.MinItems > 0}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
