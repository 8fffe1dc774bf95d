package config

import (
	"fmt"
	"math"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EvalCount evaluates a count meta-argument. known is false when the value
// depends on something not known until apply; the engine decides whether
// that is acceptable (Terraform refuses it at plan time). A sensitive count
// is allowed: a number of instances reveals nothing useful.
func EvalCount(expr hcl.Expression, ctx *hcl.EvalContext) (count int, known bool, diags hcl.Diagnostics) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return 0, false, diags
	}
	val, _ = val.Unmark()
	fail := func(detail string) (int, bool, hcl.Diagnostics) {
		return 0, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid count argument",
			Detail: detail, Subject: expr.Range().Ptr(),
		})
	}
	num, err := convert.Convert(val, cty.Number)
	switch {
	case err != nil:
		return fail(fmt.Sprintf("The given \"count\" argument value is unsuitable: %s.", err))
	case num.IsNull():
		return fail("The given \"count\" argument value is null. An integer is required.")
	case !num.IsKnown():
		return 0, false, diags
	}
	bf := num.AsBigFloat()
	n, acc := bf.Int64()
	switch {
	case acc != 0 || !bf.IsInt():
		return fail("The given \"count\" argument value is unsuitable: it must be a whole number.")
	case n < 0:
		return fail("The given \"count\" argument value is unsuitable: it must be greater than or equal to zero.")
	case n > math.MaxInt32:
		return fail(fmt.Sprintf("The given \"count\" argument value %d is too large.", n))
	}
	return int(n), true, diags
}

// EvalForEach evaluates a for_each meta-argument into each.key →
// each.value. Maps and objects give their elements; sets of strings give
// each string as both key and value. known is false when the collection or
// one of its set elements is not known yet. Sensitive collections are
// refused because instance keys appear in addresses and plans.
func EvalForEach(expr hcl.Expression, ctx *hcl.EvalContext) (instances map[string]cty.Value, known bool, diags hcl.Diagnostics) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, false, diags
	}
	fail := func(detail string) (map[string]cty.Value, bool, hcl.Diagnostics) {
		return nil, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid for_each argument",
			Detail: detail, Subject: expr.Range().Ptr(),
		})
	}
	ty := val.Type()
	switch {
	case val.IsMarked():
		return fail("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: the keys would be shown in plans and resource addresses.")
	case val.IsNull():
		return fail("The given \"for_each\" argument value is null. A map, or set of strings, is allowed.")
	case ty.IsMapType() || ty.IsObjectType():
		return forEachMap(val)
	case ty.IsSetType():
		if ty.ElementType() != cty.String && ty.ElementType() != cty.DynamicPseudoType {
			return fail(fmt.Sprintf("The given \"for_each\" argument value is unsuitable: for_each supports maps and sets of strings, but you have provided a set containing type %s.", ty.ElementType().FriendlyName()))
		}
		return forEachSet(val, fail)
	case !val.IsKnown() && ty == cty.DynamicPseudoType:
		return nil, false, diags
	}
	return fail(fmt.Sprintf("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type %s. Convert a list with toset().", ty.FriendlyName()))
}

func forEachMap(val cty.Value) (map[string]cty.Value, bool, hcl.Diagnostics) {
	if !val.IsKnown() {
		return nil, false, nil
	}
	out := make(map[string]cty.Value, val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		out[k.AsString()] = v
	}
	return out, true, nil
}

func forEachSet(val cty.Value, fail func(string) (map[string]cty.Value, bool, hcl.Diagnostics)) (map[string]cty.Value, bool, hcl.Diagnostics) {
	if !val.IsWhollyKnown() {
		return nil, false, nil
	}
	out := make(map[string]cty.Value, val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.IsNull() || v.Type() != cty.String {
			return fail("The given \"for_each\" argument value is unsuitable: for_each sets must contain only non-null strings.")
		}
		if v.IsMarked() {
			return fail("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments.")
		}
		out[v.AsString()] = v
	}
	return out, true, nil
}
