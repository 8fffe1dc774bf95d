package config

import (
	"github.com/airctl/airctl/internal/hclfuncs"
	"github.com/airctl/airctl/provision/marks"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Mark is the type of the cty marks this package puts on values; it is
// shared with the engine and state through provision/marks.
type Mark = marks.Mark

// Sensitive marks values that must be redacted in plans, output and logs:
// sensitive variables, sensitive(...) results, and everything derived from
// them (cty carries marks through operations and function calls). State
// writers find them with cty.Value.UnmarkDeepWithPaths.
const Sensitive = marks.Sensitive

// IsSensitive reports whether v itself carries the Sensitive mark.
func IsSensitive(v cty.Value) bool { return v.HasMark(Sensitive) }

// Functions returns the function table for expressions of a configuration
// whose file functions resolve relative paths against baseDir. Each call
// builds a fresh table; it is safe for concurrent use once built, so build it
// once per configuration and share it (Scope does).
func Functions(baseDir string) map[string]function.Function {
	fns := hclfuncs.Pure()
	for _, group := range []map[string]function.Function{fileFunctions(baseDir), sensitivityFunctions()} {
		for name, fn := range group {
			fns[name] = fn
		}
	}
	fns["templatefile"] = makeTemplateFileFunc(baseDir, fns)
	return fns
}
