package hclfuncs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// replaceFunc is Terraform's replace: a search string wrapped in slashes
// (/pattern/) is a regular expression whose replacement may use $1 etc.
func replaceFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Replaces each occurrence of substring (or /regex/ match) in str.",
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: "substr", Type: cty.String},
			{Name: "replace", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			str, substr, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
			if len(substr) > 1 && substr[0] == '/' && substr[len(substr)-1] == '/' {
				re, err := regexp.Compile(substr[1 : len(substr)-1])
				if err != nil {
					return cty.NilVal, fmt.Errorf("invalid regular expression %s: %w", substr, err)
				}
				return cty.StringVal(re.ReplaceAllString(str, repl)), nil
			}
			return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
		},
	})
}

func startsWithFunc() function.Function {
	return stringPredicate("Reports whether str starts with prefix.", "prefix", strings.HasPrefix)
}

func endsWithFunc() function.Function {
	return stringPredicate("Reports whether str ends with suffix.", "suffix", strings.HasSuffix)
}

func strContainsFunc() function.Function {
	return stringPredicate("Reports whether str contains substr.", "substr", strings.Contains)
}

func stringPredicate(desc, second string, pred func(s, t string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: second, Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(pred(args[0].AsString(), args[1].AsString())), nil
		},
	})
}
