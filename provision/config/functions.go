package config

import (
	"github.com/airctl/airctl/provision/marks"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
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
	fns := map[string]function.Function{}
	for _, group := range []map[string]function.Function{
		numericFunctions(), stringFunctions(), collectionFunctions(),
		encodingFunctions(), conversionFunctions(), networkFunctions(),
		fileFunctions(baseDir), sensitivityFunctions(),
	} {
		for name, fn := range group {
			fns[name] = fn
		}
	}
	fns["try"] = tryfunc.TryFunc
	fns["can"] = tryfunc.CanFunc
	fns["templatefile"] = makeTemplateFileFunc(baseDir, fns)
	return fns
}

func numericFunctions() map[string]function.Function {
	return map[string]function.Function{
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		"sum":      sumFunc(),
	}
}

func stringFunctions() map[string]function.Function {
	return map[string]function.Function{
		"chomp":       stdlib.ChompFunc,
		"endswith":    endsWithFunc(),
		"format":      stdlib.FormatFunc,
		"formatdate":  stdlib.FormatDateFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     replaceFunc(),
		"split":       stdlib.SplitFunc,
		"startswith":  startsWithFunc(),
		"strcontains": strContainsFunc(),
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"timeadd":     stdlib.TimeAddFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,
	}
}

func collectionFunctions() map[string]function.Function {
	return map[string]function.Function{
		"alltrue":         allTrueFunc(),
		"anytrue":         anyTrueFunc(),
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        coalesceFunc(),
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"index":           indexFunc(),
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc(),
		"lookup":          lookupFunc(),
		"merge":           stdlib.MergeFunc,
		"one":             oneFunc(),
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
}

func conversionFunctions() map[string]function.Function {
	return map[string]function.Function{
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),
	}
}
