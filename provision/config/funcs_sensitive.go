package config

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func sensitivityFunctions() map[string]function.Function {
	return map[string]function.Function{
		"sensitive":    markFunc("Marks value as sensitive so it is redacted in plans and output.", true),
		"nonsensitive": markFunc("Removes the sensitive mark from value; the caller takes responsibility for revealing it.", false),
	}
}

// markFunc adds or removes the Sensitive mark on the value itself. Marks on
// nested elements are left alone, as in Terraform: nonsensitive unwraps
// exactly what the caller can see.
func markFunc(desc string, sensitive bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{{
			Name: "value", Type: cty.DynamicPseudoType,
			AllowUnknown: true, AllowNull: true, AllowMarked: true, AllowDynamicType: true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if sensitive {
				return args[0].Mark(Sensitive), nil
			}
			v, marks := args[0].Unmark()
			delete(marks, Sensitive)
			return v.WithMarks(marks), nil
		},
	})
}
