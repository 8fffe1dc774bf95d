package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// reservedVariableNames cannot name variables because Terraform reserves
// them for meta-arguments of module calls.
func reservedVariableName(name string) bool {
	switch name {
	case "count", "depends_on", "for_each", "lifecycle", "locals", "providers", "source", "version":
		return true
	}
	return false
}

func (l *loader) decodeVariable(b *hcl.Block) {
	v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, Nullable: true, DeclRange: b.DefRange}
	if !l.checkName(b.LabelRanges[0], v.Name, "variable") {
		return
	}
	if reservedVariableName(v.Name) {
		l.errorf(b.LabelRanges[0].Ptr(), "Invalid variable name", "The variable name %q is reserved.", v.Name)
		return
	}
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
	})
	l.add(diags)
	l.decodeVariableAttrs(v, content.Attributes)
	for _, blk := range content.Blocks {
		l.decodeValidation(v, blk)
	}
	if prev, ok := l.cfg.Variables[v.Name]; ok {
		l.errorf(b.DefRange.Ptr(), "Duplicate variable declaration",
			"A variable named %q was already declared at %s. Variable names must be unique.", v.Name, prev.DeclRange)
		return
	}
	l.cfg.Variables[v.Name] = v
}

func (l *loader) decodeVariableAttrs(v *Variable, attrs hcl.Attributes) {
	if a := attrs["description"]; a != nil {
		v.Description = l.staticString(a.Expr)
	}
	if a := attrs["sensitive"]; a != nil {
		v.Sensitive = l.staticBool(a.Expr)
	}
	if a := attrs["nullable"]; a != nil {
		v.Nullable = l.staticBool(a.Expr)
	}
	if a := attrs["type"]; a != nil {
		l.decodeVariableType(v, a.Expr)
	}
	if a := attrs["default"]; a != nil {
		l.decodeVariableDefault(v, a.Expr)
	}
}

// decodeVariableType also picks how raw string values (environment, -var)
// are read: literally for primitive types, and when no type is given, as HCL
// for everything else, exactly as Terraform decides.
func (l *loader) decodeVariableType(v *Variable, expr hcl.Expression) {
	v.ParseMode = ParseHCL
	switch hcl.ExprAsKeyword(expr) {
	case "list": // pre-0.12 shorthand that Terraform still accepts
		v.Type = cty.List(cty.DynamicPseudoType)
		return
	case "map":
		v.Type = cty.Map(cty.DynamicPseudoType)
		return
	}
	ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(expr)
	l.add(diags)
	if diags.HasErrors() {
		v.Type = cty.DynamicPseudoType
		return
	}
	v.Type, v.TypeDefaults = ty, defaults
	if ty.IsPrimitiveType() {
		v.ParseMode = ParseLiteral
	}
}

// decodeVariableDefault runs after decodeVariableType (the attribute order
// in decodeVariableAttrs) so the default can be checked against the type.
func (l *loader) decodeVariableDefault(v *Variable, expr hcl.Expression) {
	val, diags := expr.Value(nil)
	l.add(diags)
	if diags.HasErrors() {
		return
	}
	val, err := convertVariable(v, val)
	if err != nil {
		l.errorf(expr.Range().Ptr(), "Invalid default value for variable",
			"This default value is not compatible with the variable's type constraint: %s.", err)
		return
	}
	if val.IsNull() && !v.Nullable {
		l.errorf(expr.Range().Ptr(), "Invalid default value for variable",
			"A null default value is not valid when nullable = false.")
		return
	}
	v.Default = val
}

// convertVariable applies optional-attribute defaults and converts a value
// to the variable's type constraint.
func convertVariable(v *Variable, val cty.Value) (cty.Value, error) {
	if v.TypeDefaults != nil {
		val = v.TypeDefaults.Apply(val)
	}
	out, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.NilVal, errors.New(friendlyConvertError(err))
	}
	return out, nil
}

// friendlyConvertError includes the attribute path convert reports, which
// its Error() leaves out for nested values.
func friendlyConvertError(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("at %s: %s", formatPath(pe.Path), pe.Error())
	}
	return err.Error()
}

func formatPath(path cty.Path) string {
	s := ""
	for _, step := range path {
		switch st := step.(type) {
		case cty.GetAttrStep:
			s += "." + st.Name
		case cty.IndexStep:
			if st.Key.Type() == cty.String {
				s += fmt.Sprintf("[%q]", st.Key.AsString())
			} else {
				s += fmt.Sprintf("[%s]", st.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return strings.TrimPrefix(s, ".")
}

func (l *loader) decodeValidation(v *Variable, blk *hcl.Block) {
	content, diags := blk.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "error_message", Required: true},
	}})
	l.add(diags)
	cond, msg := content.Attributes["condition"], content.Attributes["error_message"]
	if cond == nil || msg == nil {
		return
	}
	val := &Validation{Condition: cond.Expr, ErrorMessage: msg.Expr, DeclRange: blk.DefRange}
	val.References = append(l.walkExpr(cond.Expr), l.walkExpr(msg.Expr)...)
	v.Validations = append(v.Validations, val)
}
