package provider

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// GetAttr follows path through v and never panics: each step is an
// attribute of an object, a key of a map, or an index ("0") of a list or
// tuple. A step through a null (unknown) value gives a null (unknown) of
// the type found there, and a step that does not exist gives
// cty.NullVal(cty.DynamicPseudoType), so provider code can read optional
// nested values without checking every level. Marks are kept.
func GetAttr(v cty.Value, path ...string) cty.Value {
	for _, step := range path {
		v = getStep(v, step)
	}
	return v
}

func getStep(v cty.Value, step string) cty.Value {
	v, marks := v.Unmark()
	ty := v.Type()
	elemTy, ok := stepType(ty, step)
	if !ok {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	switch {
	case v.IsNull():
		return cty.NullVal(elemTy).WithMarks(marks)
	case !v.IsKnown():
		return cty.UnknownVal(elemTy).WithMarks(marks)
	case ty.IsObjectType():
		return v.GetAttr(step).WithMarks(marks)
	case ty.IsMapType():
		if !v.HasIndex(cty.StringVal(step)).True() {
			return cty.NullVal(elemTy).WithMarks(marks)
		}
		return v.Index(cty.StringVal(step)).WithMarks(marks)
	default:
		i, _ := strconv.Atoi(step)
		if i >= v.LengthInt() {
			return cty.NullVal(elemTy).WithMarks(marks)
		}
		return v.Index(cty.NumberIntVal(int64(i))).WithMarks(marks)
	}
}

// stepType is the type step leads to in ty, false when it leads nowhere.
func stepType(ty cty.Type, step string) (cty.Type, bool) {
	switch {
	case ty.IsObjectType():
		if !ty.HasAttribute(step) {
			return cty.NilType, false
		}
		return ty.AttributeType(step), true
	case ty.IsMapType():
		return ty.ElementType(), true
	case ty.IsListType(), ty.IsTupleType():
		i, err := strconv.Atoi(step)
		if err != nil || i < 0 {
			return cty.NilType, false
		}
		if ty.IsListType() {
			return ty.ElementType(), true
		}
		if i >= ty.Length() {
			return cty.NilType, false
		}
		return ty.TupleElementType(i), true
	}
	return cty.NilType, false
}

// SetAttrs returns a copy of obj (an object, possibly null) with the given
// attributes replaced, each converted to the attribute's type, so that
// cty.NullVal(cty.DynamicPseudoType) or a number literal fits any
// attribute. A null obj starts from all-null attributes. Naming an
// attribute the type does not have, or a value that cannot convert, is a
// programming error and panics (Simple turns a provider panic into an
// error).
func SetAttrs(obj cty.Value, attrs map[string]cty.Value) cty.Value {
	ty := obj.Type()
	if !ty.IsObjectType() {
		panic(fmt.Sprintf("provider.SetAttrs: %s is not an object", ty.FriendlyName()))
	}
	vals := make(map[string]cty.Value, len(ty.AttributeTypes()))
	for name, aty := range ty.AttributeTypes() {
		if obj.IsNull() {
			vals[name] = cty.NullVal(aty)
		} else {
			vals[name] = obj.GetAttr(name)
		}
	}
	for name, v := range attrs {
		aty, ok := ty.AttributeTypes()[name]
		if !ok {
			panic(fmt.Sprintf("provider.SetAttrs: object has no attribute %q", name))
		}
		vals[name] = mustConvert(name, v, aty)
	}
	return cty.ObjectVal(vals)
}

// ObjectWith builds a value of s's type from attrs, filling what is missing
// as an empty configuration would decode: null attributes and single
// blocks, empty list and set blocks. Unknown names and values of the wrong
// type panic, as in SetAttrs.
func ObjectWith(s *Schema, attrs map[string]cty.Value) cty.Value {
	for name := range attrs {
		if _, ok := s.Attributes[name]; ok {
			continue
		}
		if _, ok := s.Blocks[name]; !ok {
			panic(fmt.Sprintf("provider.ObjectWith: schema has no attribute or block %q", name))
		}
	}
	return SetAttrs(s.emptyValue(), attrs)
}

// emptyValue is what hcldec decodes from an empty body.
func (s *Schema) emptyValue() cty.Value {
	ty := s.ImpliedType()
	vals := make(map[string]cty.Value, len(s.Attributes)+len(s.Blocks))
	for name := range s.Attributes {
		vals[name] = cty.NullVal(ty.AttributeType(name))
	}
	for name, nb := range s.Blocks {
		vals[name] = nb.emptyValue(ty.AttributeType(name))
	}
	return cty.ObjectVal(vals)
}

func (nb *NestedBlock) emptyValue(ty cty.Type) cty.Value {
	switch nb.Nesting {
	case NestingList:
		return cty.ListValEmpty(ty.ElementType())
	case NestingSet:
		return cty.SetValEmpty(ty.ElementType())
	default:
		return cty.NullVal(ty)
	}
}

func mustConvert(name string, v cty.Value, ty cty.Type) cty.Value {
	cv, err := convert.Convert(v, ty)
	if err != nil {
		panic(fmt.Sprintf("provider: value for %q: %v", name, err))
	}
	return cv
}

// Changed reports whether the value at path differs between prior and
// planned (unknown counts as changed). Update functions use it to send
// only what changed to an API.
func Changed(prior, planned cty.Value, path ...string) bool {
	a, _ := GetAttr(prior, path...).UnmarkDeep()
	b, _ := GetAttr(planned, path...).UnmarkDeep()
	return changed(a, b)
}

// conformState checks a value a provider returned as state: it must
// convert to s's type and be wholly known. Null block collections become
// empty ones, as the configuration decodes them, so that a provider that
// leaves a block list out does not cause a diff on every plan.
func conformState(s *Schema, v cty.Value) (cty.Value, error) {
	ty := s.ImpliedType()
	if v == cty.NilVal {
		return cty.NullVal(ty), nil
	}
	v, _ = v.UnmarkDeep()
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NullVal(ty), fmt.Errorf("value does not match the schema: %w", err)
	}
	if p, ok := firstUnknown(cv); ok {
		return cv, fmt.Errorf("provider returned unknown value for %s after apply", describePath(p))
	}
	return normalizeBlocks(s, cv), nil
}

func describePath(p cty.Path) string {
	if len(p) == 0 {
		return "the whole object"
	}
	return FormatPath(p)
}

// errStopWalk ends a cty.Walk early.
var errStopWalk = errors.New("stop")

func firstUnknown(v cty.Value) (cty.Path, bool) {
	var found cty.Path
	err := cty.Walk(v, func(p cty.Path, v cty.Value) (bool, error) {
		if !v.IsKnown() {
			found = p.Copy()
			return false, errStopWalk
		}
		return true, nil
	})
	return found, err != nil
}

// nullUnknowns replaces unknown values with nulls: used for the partial
// state returned with an error, which the engine must be able to store.
func nullUnknowns(v cty.Value) cty.Value {
	out, _ := cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if !v.IsKnown() {
			return cty.NullVal(v.Type()), nil
		}
		return v, nil
	})
	return out
}

func normalizeBlocks(s *Schema, v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() || len(s.Blocks) == 0 {
		return v
	}
	vals := v.AsValueMap()
	for name, nb := range s.Blocks {
		vals[name] = nb.normalize(vals[name])
	}
	return cty.ObjectVal(vals)
}

func (nb *NestedBlock) normalize(v cty.Value) cty.Value {
	if nb.Nesting == NestingSingle {
		return normalizeBlocks(&nb.Block, v)
	}
	if v.IsNull() {
		return nb.emptyValue(v.Type())
	}
	if !v.IsKnown() || v.LengthInt() == 0 {
		return v
	}
	elems := v.AsValueSlice()
	for i, e := range elems {
		elems[i] = normalizeBlocks(&nb.Block, e)
	}
	if nb.Nesting == NestingSet {
		return cty.SetVal(elems)
	}
	return cty.ListVal(elems)
}

// bigInt is a helper for providers reading whole numbers: false when v is
// null, unknown or not an integer.
func bigInt(v cty.Value) (int64, bool) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return 0, false
	}
	i, acc := v.AsBigFloat().Int64()
	return i, acc == big.Exact
}

// Int reads an integer attribute at path (see GetAttr); ok is false when
// it is null, unknown or not a whole number.
func Int(v cty.Value, path ...string) (n int64, ok bool) {
	a, _ := GetAttr(v, path...).UnmarkDeep()
	return bigInt(a)
}

// String reads a string attribute at path; "" when null or unknown.
func String(v cty.Value, path ...string) string {
	a, _ := GetAttr(v, path...).UnmarkDeep()
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

// Bool reads a bool attribute at path; def when null or unknown.
func Bool(v cty.Value, def bool, path ...string) bool {
	a, _ := GetAttr(v, path...).UnmarkDeep()
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.Bool {
		return def
	}
	return a.True()
}

// StringMap reads a map(string) attribute at path; nil when null or
// unknown, and unknown or null elements are left out.
func StringMap(v cty.Value, path ...string) map[string]string {
	a, _ := GetAttr(v, path...).UnmarkDeep()
	if a.IsNull() || !a.IsKnown() || !(a.Type().IsMapType() || a.Type().IsObjectType()) {
		return nil
	}
	out := make(map[string]string, a.LengthInt())
	for k, e := range a.AsValueMap() {
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
			out[k] = e.AsString()
		}
	}
	return out
}

// StringMapVal is the inverse of StringMap: a map(string) value, null for
// a nil map and an empty map for an empty one.
func StringMapVal(m map[string]string) cty.Value {
	if m == nil {
		return cty.NullVal(cty.Map(cty.String))
	}
	if len(m) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	vals := make(map[string]cty.Value, len(m))
	for k, v := range m {
		vals[k] = cty.StringVal(v)
	}
	return cty.MapVal(vals)
}
