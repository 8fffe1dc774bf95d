package provider

import (
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// DefaultPlan is the plan logic every provider can start from: Terraform's
// "proposed new state" plus ForceNew.
//
// Each attribute takes its configured value when set (an unknown value,
// from a reference to something not yet created, stays unknown). An unset
// attribute with a Default takes the default. An unset Computed attribute
// keeps its prior value, or is unknown when there is no prior object. Any
// other unset attribute is null. Computed-only attributes ignore the
// configuration (see Schema.CheckConfig). Nested blocks are planned
// recursively: list elements pair with prior elements by index, a single
// block with the prior block, and a set element with a prior element that
// is identical in everything the configuration decides (otherwise its
// computed attributes are unknown).
//
// RequiresReplace lists, when prior is non-null, the ForceNew attributes
// and blocks whose planned value differs from the prior one; an unknown
// planned value counts as a change. A change inside a set block is reported
// at the set's path, since set elements have no stable address.
//
// A null config (destroy) plans null. Sensitive marks on the inputs are
// carried over to the planned value.
func DefaultPlan(s *Schema, prior, config cty.Value) (PlanResponse, error) {
	pr, err := propose(s, prior, config)
	if err != nil {
		return PlanResponse{}, err
	}
	var replace []cty.Path
	if !pr.prior.IsNull() && !pr.planned.IsNull() {
		forceNewDiffs(s, cty.Path{}, pr.prior, pr.planned, &replace)
	}
	return PlanResponse{Planned: pr.planned.MarkWithPaths(pr.marks), RequiresReplace: replace}, nil
}

// proposal is the proposed new state before marks are put back, with the
// prior it was planned from, both unmarked and of the schema's type.
type proposal struct {
	prior, planned cty.Value
	marks          []cty.PathValueMarks
}

func propose(s *Schema, prior, config cty.Value) (proposal, error) {
	ty := s.ImpliedType()
	prior, priorMarks := prior.UnmarkDeepWithPaths()
	config, configMarks := config.UnmarkDeepWithPaths()
	if config.IsNull() {
		return proposal{prior: prior, planned: cty.NullVal(ty)}, nil
	}
	prior, config, err := conformPlanInputs(ty, prior, config)
	if err != nil {
		return proposal{}, err
	}
	planned, err := planObject(s, prior, config)
	if err != nil {
		return proposal{}, err
	}
	return proposal{prior: prior, planned: planned, marks: markPathsOutsideSets(priorMarks, configMarks)}, nil
}

func conformPlanInputs(ty cty.Type, prior, config cty.Value) (cty.Value, cty.Value, error) {
	if !config.IsKnown() {
		return prior, config, errors.New("configuration must be a known object (attributes inside it may be unknown)")
	}
	if !prior.IsWhollyKnown() {
		return prior, config, errors.New("prior state contains unknown values")
	}
	c, err := convert.Convert(config, ty)
	if err != nil {
		return prior, config, fmt.Errorf("configuration does not match the schema: %w", err)
	}
	p, err := convert.Convert(prior, ty)
	if err != nil {
		return prior, config, fmt.Errorf("prior state does not match the schema: %w", err)
	}
	return p, c, nil
}

// planObject plans one block: config is a known non-null object, prior is
// null (nothing exists yet) or a known object.
func planObject(s *Schema, prior, config cty.Value) (cty.Value, error) {
	vals := make(map[string]cty.Value, len(s.Attributes)+len(s.Blocks))
	for name, a := range s.Attributes {
		v, err := planAttribute(a, attrOrNull(prior, name), config.GetAttr(name), !prior.IsNull())
		if err != nil {
			return cty.NilVal, fmt.Errorf("%s: %w", name, err)
		}
		vals[name] = v
	}
	for name, nb := range s.Blocks {
		v, err := planBlock(nb, attrOrNull(prior, name), config.GetAttr(name))
		if err != nil {
			return cty.NilVal, fmt.Errorf("%s: %w", name, err)
		}
		vals[name] = v
	}
	return cty.ObjectVal(vals), nil
}

func planAttribute(a *Attribute, prior, config cty.Value, priorExists bool) (cty.Value, error) {
	computedOnly := a.Computed && !a.Optional
	switch {
	case !computedOnly && !config.IsNull():
		return config, nil
	case !computedOnly && a.Default != cty.NilVal:
		v, err := convert.Convert(a.Default, a.Type)
		if err != nil {
			return cty.NilVal, fmt.Errorf("default value: %w", err)
		}
		return v, nil
	case a.Computed && priorExists:
		return prior, nil
	case a.Computed:
		return cty.UnknownVal(a.Type), nil
	default:
		return cty.NullVal(config.Type()), nil
	}
}

func planBlock(nb *NestedBlock, prior, config cty.Value) (cty.Value, error) {
	if config.IsNull() || !config.IsKnown() {
		return config, nil
	}
	if !prior.IsKnown() {
		prior = cty.NullVal(prior.Type())
	}
	switch nb.Nesting {
	case NestingSingle:
		return planObject(&nb.Block, prior, config)
	case NestingList:
		return planList(nb, prior, config)
	default:
		return planSet(nb, prior, config)
	}
}

func planList(nb *NestedBlock, prior, config cty.Value) (cty.Value, error) {
	if config.LengthInt() == 0 {
		return config, nil
	}
	var priorElems []cty.Value
	if !prior.IsNull() {
		priorElems = prior.AsValueSlice()
	}
	elems := make([]cty.Value, 0, config.LengthInt())
	for i, ce := range config.AsValueSlice() {
		pe := cty.NullVal(ce.Type())
		if i < len(priorElems) {
			pe = priorElems[i]
		}
		ne, err := planElement(nb, pe, ce)
		if err != nil {
			return cty.NilVal, fmt.Errorf("[%d]: %w", i, err)
		}
		elems = append(elems, ne)
	}
	return cty.ListVal(elems), nil
}

func planSet(nb *NestedBlock, prior, config cty.Value) (cty.Value, error) {
	if config.LengthInt() == 0 {
		return config, nil
	}
	var unused []cty.Value
	if !prior.IsNull() {
		unused = prior.AsValueSlice()
	}
	elems := make([]cty.Value, 0, config.LengthInt())
	for _, ce := range config.AsValueSlice() {
		pe := cty.NullVal(ce.Type())
		for i, candidate := range unused {
			if sameByConfig(&nb.Block, ce, candidate) {
				pe = candidate
				unused = append(unused[:i:i], unused[i+1:]...)
				break
			}
		}
		ne, err := planElement(nb, pe, ce)
		if err != nil {
			return cty.NilVal, err
		}
		elems = append(elems, ne)
	}
	return cty.SetVal(elems), nil
}

func planElement(nb *NestedBlock, prior, config cty.Value) (cty.Value, error) {
	if config.IsNull() || !config.IsKnown() {
		return config, nil
	}
	return planObject(&nb.Block, prior, config)
}

// sameByConfig reports whether prior (a state element) is what config (a
// configuration element) would have produced: equal in every attribute the
// configuration sets. Computed values the configuration leaves unset are
// not compared, so a set element keeps its computed values across plans.
func sameByConfig(s *Schema, config, prior cty.Value) bool {
	if config.IsNull() || prior.IsNull() {
		return config.IsNull() && prior.IsNull()
	}
	if !config.IsKnown() || !prior.IsKnown() {
		return false
	}
	for name, a := range s.Attributes {
		cv := config.GetAttr(name)
		if (a.Computed && !a.Optional) || (a.Computed && cv.IsNull()) {
			continue
		}
		if !knownTrue(cv.Equals(prior.GetAttr(name))) {
			return false
		}
	}
	for name, nb := range s.Blocks {
		if !sameBlockByConfig(nb, config.GetAttr(name), prior.GetAttr(name)) {
			return false
		}
	}
	return true
}

func sameBlockByConfig(nb *NestedBlock, config, prior cty.Value) bool {
	if nb.Nesting == NestingSingle {
		return sameByConfig(&nb.Block, config, prior)
	}
	if config.IsNull() || prior.IsNull() || !config.IsKnown() || !prior.IsKnown() {
		return config.IsNull() && prior.IsNull()
	}
	if config.LengthInt() != prior.LengthInt() {
		return false
	}
	ces, pes := config.AsValueSlice(), prior.AsValueSlice()
	if nb.Nesting == NestingList {
		for i := range ces {
			if !sameByConfig(&nb.Block, ces[i], pes[i]) {
				return false
			}
		}
		return true
	}
	for _, ce := range ces {
		found := false
		for i, pe := range pes {
			if sameByConfig(&nb.Block, ce, pe) {
				pes = append(pes[:i:i], pes[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// forceNewDiffs appends the paths of ForceNew attributes and blocks that
// differ between prior and planned (objects of s's type, either null).
func forceNewDiffs(s *Schema, path cty.Path, prior, planned cty.Value, out *[]cty.Path) {
	for _, name := range sortedKeys(s.Attributes) {
		if s.Attributes[name].ForceNew && changed(attrOrNull(prior, name), attrOrNull(planned, name)) {
			*out = append(*out, path.GetAttr(name))
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		nb := s.Blocks[name]
		pv, nv := attrOrNull(prior, name), attrOrNull(planned, name)
		switch {
		case nb.ForceNew:
			if blockChanged(pv, nv) {
				*out = append(*out, path.GetAttr(name))
			}
		case nb.Block.hasForceNew():
			nb.forceNewDiffs(path.GetAttr(name), pv, nv, out)
		}
	}
}

func (nb *NestedBlock) forceNewDiffs(path cty.Path, prior, planned cty.Value, out *[]cty.Path) {
	if !prior.IsKnown() || !planned.IsKnown() {
		if changed(prior, planned) {
			*out = append(*out, path)
		}
		return
	}
	switch nb.Nesting {
	case NestingSingle:
		forceNewDiffs(&nb.Block, path, prior, planned, out)
	case NestingList:
		pes, nes := elementsOrNil(prior), elementsOrNil(planned)
		for i := 0; i < max(len(pes), len(nes)); i++ {
			forceNewDiffs(&nb.Block, path.IndexInt(i), elementOrNull(pes, i, prior), elementOrNull(nes, i, planned), out)
		}
	default:
		if blockChanged(maskNonForceNew(&nb.Block, prior), maskNonForceNew(&nb.Block, planned)) {
			*out = append(*out, path)
		}
	}
}

// maskNonForceNew nulls every attribute that cannot force replacement, so
// comparing two masked sets compares only what ForceNew looks at. The type
// is unchanged, which keeps set elements comparable.
func maskNonForceNew(s *Schema, v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	if v.Type().IsObjectType() {
		return maskObject(s, v)
	}
	elems := elementsOrNil(v)
	if len(elems) == 0 {
		return v
	}
	masked := make([]cty.Value, len(elems))
	for i, e := range elems {
		masked[i] = maskNonForceNew(s, e)
	}
	if v.Type().IsSetType() {
		return cty.SetVal(masked)
	}
	return cty.ListVal(masked)
}

func maskObject(s *Schema, v cty.Value) cty.Value {
	vals := v.AsValueMap()
	for name, a := range s.Attributes {
		if !a.ForceNew {
			vals[name] = cty.NullVal(vals[name].Type())
		}
	}
	for name, nb := range s.Blocks {
		if !nb.ForceNew {
			vals[name] = maskNonForceNew(&nb.Block, vals[name])
		}
	}
	return cty.ObjectVal(vals)
}

// changed is true unless a and b are known to be equal: an unknown planned
// value may turn out different, so it counts as a change.
func changed(a, b cty.Value) bool {
	return !knownTrue(a.Equals(b))
}

// blockChanged is changed, except that a null and an empty collection of
// blocks are the same thing: no blocks.
func blockChanged(a, b cty.Value) bool {
	if noBlocks(a) && noBlocks(b) {
		return false
	}
	return changed(a, b)
}

func noBlocks(v cty.Value) bool {
	if v.IsNull() {
		return true
	}
	return v.IsKnown() && !v.Type().IsObjectType() && v.LengthInt() == 0
}

func knownTrue(v cty.Value) bool {
	return v.IsKnown() && !v.IsNull() && v.True()
}

// attrOrNull is obj.name, or a null (unknown) of the attribute's type when
// obj itself is null (unknown).
func attrOrNull(obj cty.Value, name string) cty.Value {
	ty := obj.Type().AttributeType(name)
	switch {
	case obj.IsNull():
		return cty.NullVal(ty)
	case !obj.IsKnown():
		return cty.UnknownVal(ty)
	default:
		return obj.GetAttr(name)
	}
}

func elementsOrNil(v cty.Value) []cty.Value {
	if v.IsNull() || !v.IsKnown() || v.LengthInt() == 0 {
		return nil
	}
	return v.AsValueSlice()
}

func elementOrNull(elems []cty.Value, i int, coll cty.Value) cty.Value {
	if i < len(elems) {
		return elems[i]
	}
	return cty.NullVal(coll.Type().ElementType())
}

// markPathsOutsideSets cuts each marked path at its first set step: a set
// element is addressed by its value, which planning changes (computed
// attributes become unknown), so the mark is kept on the whole set instead
// of being lost.
func markPathsOutsideSets(lists ...[]cty.PathValueMarks) []cty.PathValueMarks {
	var out []cty.PathValueMarks
	for _, pvms := range lists {
		for _, pvm := range pvms {
			out = append(out, cty.PathValueMarks{Path: cutAtSetStep(pvm.Path), Marks: pvm.Marks})
		}
	}
	return out
}

func cutAtSetStep(p cty.Path) cty.Path {
	for i, step := range p {
		if st, ok := step.(cty.IndexStep); ok && st.Key.Type().IsObjectType() {
			return p[:i:i]
		}
	}
	return p
}
