package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// Scope holds the values an expression may refer to; EvalContext turns them
// into the hcl.EvalContext every evaluation in the engine uses, so that
// resources, outputs, locals and deploy blocks all see the same names.
// Any value may be unknown (cty.UnknownVal, cty.DynamicVal) at plan time;
// it then flows through expressions and functions as "known after apply".
type Scope struct {
	// BaseDir is where file functions resolve relative paths: the
	// configuration directory. path.module and path.root are ".", as for
	// Terraform's root module, so "${path.module}/x" names BaseDir/x in file
	// functions and no machine-specific absolute path ends up in state.
	BaseDir string
	// Cwd is path.cwd; "" means the process working directory.
	Cwd string
	// Workspace is terraform.workspace; "" means "default".
	Workspace string

	Variables map[string]cty.Value // by name
	Locals    map[string]cty.Value // by name
	// Resources are keyed by address ("google_compute_instance.vm"). The
	// value of a resource with count is a list or tuple of instances, with
	// for_each a map or object of them.
	Resources map[string]cty.Value
	// DataSources are keyed by address ("data.google_compute_image.debian").
	DataSources map[string]cty.Value

	// Functions is the function table; nil builds Functions(BaseDir) on each
	// EvalContext call, so set it when evaluating many expressions.
	Functions map[string]function.Function
}

// EvalContext builds the evaluation context. Per-instance values (count,
// each) are added with WithCount and WithEach on a child context so that
// the shared context is built once per walk.
func (s *Scope) EvalContext() (*hcl.EvalContext, error) {
	vars := map[string]cty.Value{
		"var":       objectOf(s.Variables),
		"local":     objectOf(s.Locals),
		"path":      s.pathObject(),
		"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal(s.workspace())}),
	}
	if err := addResources(vars, s.Resources, ""); err != nil {
		return nil, err
	}
	data := map[string]cty.Value{}
	if err := addResources(data, s.DataSources, "data."); err != nil {
		return nil, err
	}
	vars["data"] = cty.ObjectVal(data)
	funcs := s.Functions
	if funcs == nil {
		funcs = Functions(s.BaseDir)
	}
	return &hcl.EvalContext{Variables: vars, Functions: funcs}, nil
}

func (s *Scope) workspace() string {
	if s.Workspace == "" {
		return "default"
	}
	return s.Workspace
}

func (s *Scope) pathObject() cty.Value {
	cwd := s.Cwd
	if cwd == "" {
		cwd, _ = os.Getwd() // an unreadable cwd leaves path.cwd empty, as nothing better exists
	}
	return cty.ObjectVal(map[string]cty.Value{
		"module": cty.StringVal("."),
		"root":   cty.StringVal("."),
		"cwd":    cty.StringVal(cwd),
	})
}

// addResources nests "type.name" (after prefix) values as
// vars[type] = object{name: value}, which is how expressions traverse them.
func addResources(vars map[string]cty.Value, byAddr map[string]cty.Value, prefix string) error {
	byType := map[string]map[string]cty.Value{}
	for addr, val := range byAddr {
		typ, name, ok := strings.Cut(strings.TrimPrefix(addr, prefix), ".")
		if !ok || !strings.HasPrefix(addr, prefix) || name == "" || strings.Contains(name, ".") {
			return fmt.Errorf("scope: %q is not a %sTYPE.NAME address", addr, prefix)
		}
		if byType[typ] == nil {
			byType[typ] = map[string]cty.Value{}
		}
		byType[typ][name] = val
	}
	for typ, names := range byType {
		if reservedRootName(typ) {
			return fmt.Errorf("scope: resource type %q clashes with a built-in name", typ)
		}
		vars[typ] = cty.ObjectVal(names)
	}
	return nil
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// WithCount returns a child of parent in which count.index is index (a
// number, or unknown while the count itself is unknown).
func WithCount(parent *hcl.EvalContext, index cty.Value) *hcl.EvalContext {
	child := parent.NewChild()
	child.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": index})}
	return child
}

// WithEach returns a child of parent in which each.key and each.value are
// set. For a set of strings, key and value are the same element.
func WithEach(parent *hcl.EvalContext, key, value cty.Value) *hcl.EvalContext {
	child := parent.NewChild()
	child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": value})}
	return child
}

// ExpandBody expands the dynamic blocks of a body (typically
// Resource.Config) in ctx. The result is decoded against the provider's
// schema; a dynamic block whose for_each is unknown decodes as an unknown
// value, as plan-time evaluation requires.
func ExpandBody(body hcl.Body, ctx *hcl.EvalContext) hcl.Body {
	return dynblock.Expand(body, ctx)
}

// EvalExpr evaluates expr and converts the result to want
// (cty.DynamicPseudoType for any), reporting a conversion failure at the
// expression's range.
func EvalExpr(expr hcl.Expression, ctx *hcl.EvalContext, want cty.Type) (cty.Value, hcl.Diagnostics) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	out, err := convert.Convert(val, want)
	if err != nil {
		return cty.UnknownVal(want), append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Incorrect value type",
			Detail:  fmt.Sprintf("Invalid expression value: %s.", friendlyConvertError(err)),
			Subject: expr.Range().Ptr(), Expression: expr, EvalContext: ctx,
		})
	}
	return out, diags
}
