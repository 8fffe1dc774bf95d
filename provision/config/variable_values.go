package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// finalize turns the gathered raw values into typed values, one variable at
// a time in name order.
func (r *resolver) finalize() map[string]cty.Value {
	values := map[string]cty.Value{}
	missing := &MissingVariablesError{}
	for _, v := range r.sortedVariables() {
		raw, given := r.raw[v.Name]
		switch {
		case given && raw.failed:
			continue
		case !given && v.Required():
			missing.Variables = append(missing.Variables, v)
			continue
		}
		val, ok := r.typedValue(v, raw, given)
		if !ok {
			continue
		}
		if v.Sensitive {
			val = val.Mark(Sensitive)
		}
		values[v.Name] = val
	}
	r.reportMissing(missing)
	return values
}

func (r *resolver) sortedVariables() []*Variable {
	vars := make([]*Variable, 0, len(r.cfg.Variables))
	for _, v := range r.cfg.Variables {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// typedValue converts a given value (or takes the default) and applies
// nullable = false, under which a null falls back to the default.
func (r *resolver) typedValue(v *Variable, raw rawValue, given bool) (cty.Value, bool) {
	if !given {
		return v.Default, true
	}
	val, ok := r.parseRaw(v, raw)
	if !ok {
		return cty.NilVal, false
	}
	val, err := convertVariable(v, val)
	if err != nil {
		r.errorf(raw.rng.Ptr(), "Invalid value for input variable",
			"The value for var.%s from %s is not suitable for its type constraint %s: %s.", v.Name, raw.source, typeString(v.Type), err)
		return cty.NilVal, false
	}
	if val.IsNull() && !v.Nullable {
		if v.Default != cty.NilVal && !v.Default.IsNull() {
			return v.Default, true
		}
		r.errorf(raw.rng.Ptr(), "Required variable not set",
			"The value for var.%s from %s is null, but the variable is declared with nullable = false.", v.Name, raw.source)
		return cty.NilVal, false
	}
	return val, true
}

// parseRaw reads a raw string as the declaration says: literally, or as an
// HCL expression (for complex types, as Terraform does with -var).
func (r *resolver) parseRaw(v *Variable, raw rawValue) (cty.Value, bool) {
	if raw.value != cty.NilVal {
		return raw.value, true
	}
	if v.ParseMode == ParseLiteral {
		return cty.StringVal(raw.str), true
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw.str), raw.rng.Filename, hcl.InitialPos)
	if !diags.HasErrors() {
		var val cty.Value
		val, diags = expr.Value(nil)
		if !diags.HasErrors() {
			return val, true
		}
	}
	r.diags = append(r.diags, diags...)
	r.errorf(raw.rng.Ptr(), "Invalid value for input variable",
		"The value for var.%s from %s must be an HCL expression of type %s, like [\"a\", \"b\"] or { key = \"value\" }.", v.Name, raw.source, typeString(v.Type))
	return cty.NilVal, false
}

func (r *resolver) reportMissing(missing *MissingVariablesError) {
	for _, v := range missing.Variables {
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No value for required variable",
			Detail: fmt.Sprintf("The input variable %q is not set and has no default value. Use a -var or -var-file option, a terraform.tfvars file, or the TF_VAR_%s environment variable to provide a value.",
				v.Name, v.Name),
			Subject: v.DeclRange.Ptr(),
			Extra:   missing,
		})
	}
}

// validateAll runs every validation rule of every variable that has a
// value. Variables without a value are unknown in the rules' context, so a
// rule that depends on one is skipped rather than failing spuriously.
func (r *resolver) validateAll(values map[string]cty.Value) {
	all := map[string]cty.Value{}
	for name, v := range r.cfg.Variables {
		if val, ok := values[name]; ok {
			all[name] = val
		} else {
			all[name] = cty.UnknownVal(v.Type)
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(all)},
		Functions: Functions(r.cfg.Dir),
	}
	for _, v := range r.sortedVariables() {
		if _, ok := values[v.Name]; !ok {
			continue
		}
		for _, rule := range v.Validations {
			r.validate(v, rule, ctx)
		}
	}
}

func (r *resolver) validate(v *Variable, rule *Validation, ctx *hcl.EvalContext) {
	result, diags := rule.Condition.Value(ctx)
	r.diags = append(r.diags, diags...)
	if diags.HasErrors() {
		return
	}
	result, _ = result.UnmarkDeep()
	if !result.IsKnown() {
		return
	}
	ok, err := convert.Convert(result, cty.Bool)
	if err != nil || ok.IsNull() {
		r.errorf(rule.Condition.Range().Ptr(), "Invalid variable validation result",
			"The validation condition for var.%s must return true or false, not %s.", v.Name, describeValue(result))
		return
	}
	if ok.True() {
		return
	}
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail: fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s; the value of var.%s came from %s.",
			r.errorMessage(rule, ctx), rule.Condition.Range(), v.Name, r.sourceOf(v)),
		Subject: rule.Condition.Range().Ptr(),
	})
}

// errorMessage evaluates error_message, never revealing sensitive values.
func (r *resolver) errorMessage(rule *Validation, ctx *hcl.EvalContext) string {
	msg, diags := rule.ErrorMessage.Value(ctx)
	if diags.HasErrors() {
		r.diags = append(r.diags, diags...)
		return "(The error message could not be evaluated.)"
	}
	if msg.ContainsMarked() {
		return "(The error message included a sensitive value, so it is not displayed.)"
	}
	msg, err := convert.Convert(msg, cty.String)
	if err != nil || msg.IsNull() || !msg.IsKnown() {
		return "(The error message is not a known string.)"
	}
	return msg.AsString()
}

func (r *resolver) sourceOf(v *Variable) string {
	if raw, ok := r.raw[v.Name]; ok {
		if raw.value != cty.NilVal {
			return raw.rng.String()
		}
		return raw.source
	}
	return "its default"
}

func describeValue(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return "a value of type " + v.Type().FriendlyName()
}

func typeString(ty cty.Type) string { return typeexpr.TypeString(ty) }
