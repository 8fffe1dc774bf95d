package provider

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Validate checks that a schema is internally consistent. Provider authors
// call it from a test for every schema they declare, so that a mistake shows
// up as a clear error instead of as a confusing plan. Every problem found is
// reported, joined with errors.Join.
func (s *Schema) Validate() error {
	if s == nil {
		return errors.New("schema is nil")
	}
	var errs []error
	s.validate(nil, false, &errs)
	return errors.Join(errs...)
}

// validate appends one error per problem. inCollection is true inside
// list and set blocks, whose element types must be uniform.
func (s *Schema) validate(path cty.Path, inCollection bool, errs *[]error) {
	for _, name := range sortedKeys(s.Attributes) {
		p := path.GetAttr(name)
		if err := validateAttribute(name, s.Attributes[name], inCollection); err != nil {
			*errs = append(*errs, fmt.Errorf("attribute %s: %w", FormatPath(p), err))
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		p := path.GetAttr(name)
		if _, dup := s.Attributes[name]; dup {
			*errs = append(*errs, fmt.Errorf("block %s: an attribute has the same name", FormatPath(p)))
		}
		nb := s.Blocks[name]
		if err := validateBlockHeader(name, nb); err != nil {
			*errs = append(*errs, fmt.Errorf("block %s: %w", FormatPath(p), err))
			continue
		}
		nb.Block.validate(p, inCollection || nb.Nesting != NestingSingle, errs)
	}
}

func validateAttribute(name string, a *Attribute, inCollection bool) error {
	switch {
	case a == nil:
		return errors.New("is nil")
	case !hclsyntax.ValidIdentifier(name):
		return errors.New("name is not a valid identifier")
	case a.Type == cty.NilType:
		return errors.New("has no type")
	case a.Required && (a.Optional || a.Computed):
		return errors.New("required cannot be combined with optional or computed")
	case !a.Required && !a.Optional && !a.Computed:
		return errors.New("must be required, optional or computed")
	case a.ForceNew && a.Computed && !a.Optional:
		// Nothing in the configuration can change it, so ForceNew would
		// only ever fire on the provider's own output.
		return errors.New("ForceNew has no effect on a computed-only attribute")
	case inCollection && a.Type.HasDynamicTypes():
		// Elements of a list or set must share one type; a dynamic
		// attribute would let two blocks disagree (hcldec then produces a
		// tuple, which the implied list/set type cannot hold).
		return errors.New("a dynamic type is not allowed inside a list or set block")
	}
	return validateDefault(a)
}

func validateDefault(a *Attribute) error {
	if a.Default == cty.NilVal {
		return nil
	}
	if !a.Optional || !a.Computed {
		return errors.New("a default requires optional and computed")
	}
	if !a.Default.IsWhollyKnown() || a.Default.IsNull() {
		return errors.New("the default must be a known, non-null value")
	}
	if _, err := convert.Convert(a.Default, a.Type); err != nil {
		return fmt.Errorf("the default does not match the type %s: %w", a.Type.FriendlyName(), err)
	}
	return nil
}

func validateBlockHeader(name string, nb *NestedBlock) error {
	switch {
	case nb == nil:
		return errors.New("is nil")
	case !hclsyntax.ValidIdentifier(name):
		return errors.New("name is not a valid identifier")
	case nb.Nesting != NestingSingle && nb.Nesting != NestingList && nb.Nesting != NestingSet:
		return fmt.Errorf("unknown nesting mode %d", nb.Nesting)
	case nb.MinItems < 0 || nb.MaxItems < 0:
		return errors.New("MinItems and MaxItems cannot be negative")
	case nb.MaxItems > 0 && nb.MinItems > nb.MaxItems:
		return errors.New("MinItems is greater than MaxItems")
	case nb.Nesting == NestingSingle && (nb.MinItems > 1 || nb.MaxItems > 1):
		return errors.New("a single block holds at most one item")
	}
	return nil
}

// SensitivePaths lists the paths of the sensitive attributes that are set
// (known and non-null, or unknown) in v, a value of the schema's type,
// looking inside nested blocks. The engine marks these paths so that the
// values are hidden in plans and recorded as sensitive in state.
//
// A path into a set element is keyed by the element's value, as cty does;
// where a whole block collection is unknown its path is returned instead,
// since the elements inside cannot be named yet.
func (s *Schema) SensitivePaths(v cty.Value) []cty.Path {
	v, _ = v.UnmarkDeep()
	var out []cty.Path
	s.appendSensitive(cty.Path{}, v, &out)
	return out
}

func (s *Schema) appendSensitive(path cty.Path, v cty.Value, out *[]cty.Path) {
	if v.IsNull() || !v.Type().IsObjectType() {
		return
	}
	if !v.IsKnown() {
		if s.hasSensitive() {
			*out = append(*out, path)
		}
		return
	}
	for _, name := range sortedKeys(s.Attributes) {
		if !s.Attributes[name].Sensitive || !v.Type().HasAttribute(name) {
			continue
		}
		if !v.GetAttr(name).IsNull() {
			*out = append(*out, path.GetAttr(name))
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		nb := s.Blocks[name]
		if !nb.Block.hasSensitive() || !v.Type().HasAttribute(name) {
			continue
		}
		nb.appendSensitive(path.GetAttr(name), v.GetAttr(name), out)
	}
}

func (nb *NestedBlock) appendSensitive(path cty.Path, v cty.Value, out *[]cty.Path) {
	switch {
	case v.IsNull():
		return
	case !v.IsKnown():
		*out = append(*out, path)
		return
	case nb.Nesting == NestingSingle:
		nb.Block.appendSensitive(path, v, out)
		return
	}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if nb.Nesting == NestingSet {
			k = ev
		}
		nb.Block.appendSensitive(path.Index(k), ev, out)
	}
}

func (s *Schema) hasSensitive() bool {
	for _, a := range s.Attributes {
		if a.Sensitive {
			return true
		}
	}
	for _, nb := range s.Blocks {
		if nb.Block.hasSensitive() {
			return true
		}
	}
	return false
}

func (s *Schema) hasForceNew() bool {
	for _, a := range s.Attributes {
		if a.ForceNew {
			return true
		}
	}
	for _, nb := range s.Blocks {
		if nb.ForceNew || nb.Block.hasForceNew() {
			return true
		}
	}
	return false
}

// AttributeByPath returns the attribute p points at, or nil when p names a
// block or nothing. Index steps are accepted after list and set blocks, so
// a path from RequiresReplace or SensitivePaths resolves; the engine uses it
// to check ignore_changes and to explain a replacement.
func (s *Schema) AttributeByPath(p cty.Path) *Attribute {
	cur := s
	for i := 0; i < len(p); i++ {
		step, ok := p[i].(cty.GetAttrStep)
		if !ok {
			return nil
		}
		if a, ok := cur.Attributes[step.Name]; ok {
			if i == len(p)-1 {
				return a
			}
			return nil // no attribute has attributes of its own
		}
		nb, ok := cur.Blocks[step.Name]
		if !ok {
			return nil
		}
		if nb.Nesting != NestingSingle && i+1 < len(p) {
			if _, isIndex := p[i+1].(cty.IndexStep); !isIndex {
				return nil
			}
			i++
		}
		cur = &nb.Block
	}
	return nil
}

// CheckConfig reports arguments that a configuration sets although the
// provider computes them (Terraform's "Can't configure a value for ...").
// DefaultPlan ignores such values; the engine calls this at validate time to
// tell the user instead.
func (s *Schema) CheckConfig(config cty.Value) error {
	config, _ = config.UnmarkDeep()
	var errs []error
	s.checkConfig(cty.Path{}, config, &errs)
	return errors.Join(errs...)
}

func (s *Schema) checkConfig(path cty.Path, v cty.Value, errs *[]error) {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return
	}
	for _, name := range sortedKeys(s.Attributes) {
		a := s.Attributes[name]
		if a.Computed && !a.Optional && v.Type().HasAttribute(name) && !v.GetAttr(name).IsNull() {
			*errs = append(*errs, fmt.Errorf("cannot set %s: its value is decided by the provider", FormatPath(path.GetAttr(name))))
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		if !v.Type().HasAttribute(name) {
			continue
		}
		nb := s.Blocks[name]
		bv := v.GetAttr(name)
		if nb.Nesting == NestingSingle {
			nb.Block.checkConfig(path.GetAttr(name), bv, errs)
			continue
		}
		if bv.IsNull() || !bv.IsKnown() {
			continue
		}
		for it := bv.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			if nb.Nesting == NestingSet {
				k = ev
			}
			nb.Block.checkConfig(path.GetAttr(name).Index(k), ev, errs)
		}
	}
}

// FormatPath renders p in HCL traversal syntax for messages:
// `settings[0].tier`, `labels["team"]`. A set element, which has no
// index, is shown as [*].
func FormatPath(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch st := step.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(st.Name)
		case cty.IndexStep:
			b.WriteString(formatIndex(st.Key))
		default:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func formatIndex(k cty.Value) string {
	if k.IsNull() || !k.IsKnown() || k.IsMarked() {
		return "[*]"
	}
	switch k.Type() {
	case cty.String:
		return "[" + strconv.Quote(k.AsString()) + "]"
	case cty.Number:
		if i, acc := k.AsBigFloat().Int64(); acc == big.Exact {
			return "[" + strconv.FormatInt(i, 10) + "]"
		}
	}
	return "[*]"
}
