// Package hclfuncs is the function library shared by airctl configurations
// and aird DAG files: the pure functions of Terraform's language (no file
// access), with Terraform's names and semantics, so users learn one set.
package hclfuncs

import (
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Pure returns a fresh table of the functions that need nothing but their
// arguments. Callers add their own (file functions, marks) to the copy.
func Pure() map[string]function.Function {
	fns := map[string]function.Function{}
	for _, group := range []map[string]function.Function{
		numericFunctions(), stringFunctions(), collectionFunctions(),
		encodingFunctions(), conversionFunctions(), networkFunctions(),
	} {
		for name, fn := range group {
			fns[name] = fn
		}
	}
	fns["try"] = tryfunc.TryFunc
	fns["can"] = tryfunc.CanFunc
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
