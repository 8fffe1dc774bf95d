package config

import (
	"github.com/airctl/airctl/internal/hclfuncs"

	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func fileFunctions(baseDir string) map[string]function.Function {
	return map[string]function.Function{
		"file":       fileFunc(baseDir),
		"fileexists": fileExistsFunc(baseDir),
		"filebase64": fileBase64Func(baseDir),
	}
}

// resolvePath makes p absolute against baseDir after expanding a leading ~,
// so a configuration behaves the same whatever the working directory.
func resolvePath(baseDir, p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expanding ~: %w", err)
		}
		p = filepath.Join(home, p[1:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	return filepath.Clean(p), nil
}

func readFile(baseDir, p string) ([]byte, error) {
	full, err := resolvePath(baseDir, p)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(full)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no file exists at %s", full)
		}
		return nil, fmt.Errorf("reading %s: %w", full, err)
	}
	return b, nil
}

func fileFunc(baseDir string) function.Function {
	return hclfuncs.StringFunc("Reads the UTF-8 text file at path (relative to the configuration directory).", func(p string) (string, error) {
		b, err := readFile(baseDir, p)
		if err != nil {
			return "", err
		}
		if !utf8.Valid(b) {
			return "", fmt.Errorf("contents of %s are not valid UTF-8; use filebase64 for binary files", p)
		}
		return string(b), nil
	})
}

func fileBase64Func(baseDir string) function.Function {
	return hclfuncs.StringFunc("Reads the file at path and returns its content base64-encoded.", func(p string) (string, error) {
		b, err := readFile(baseDir, p)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
	})
}

func fileExistsFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Reports whether a regular file exists at path.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			full, err := resolvePath(baseDir, args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			fi, err := os.Stat(full)
			switch {
			case errors.Is(err, os.ErrNotExist):
				return cty.False, nil
			case err != nil:
				return cty.NilVal, fmt.Errorf("checking %s: %w", full, err)
			case !fi.Mode().IsRegular():
				return cty.NilVal, fmt.Errorf("%s is not a regular file", full)
			}
			return cty.True, nil
		},
	})
}

// makeTemplateFileFunc renders a file as an HCL template with the given
// variables and the configuration's functions. Inside a template,
// templatefile itself is replaced by a stub that fails, because recursion
// through files has no natural bound.
func makeTemplateFileFunc(baseDir string, fns map[string]function.Function) function.Function {
	inner := make(map[string]function.Function, len(fns))
	for name, fn := range fns {
		inner[name] = fn
	}
	inner["templatefile"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "vars", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			return cty.NilVal, errors.New("cannot call templatefile from inside a template")
		},
	})
	return function.New(&function.Spec{
		Description: "Renders the template file at path with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return renderTemplateFile(baseDir, args[0].AsString(), args[1], inner)
		},
	})
}

func renderTemplateFile(baseDir, path string, vars cty.Value, fns map[string]function.Function) (cty.Value, error) {
	ty := vars.Type()
	if vars.IsNull() || !(ty.IsMapType() || ty.IsObjectType()) {
		return cty.NilVal, errors.New("vars must be a map or object")
	}
	src, err := readFile(baseDir, path)
	if err != nil {
		return cty.NilVal, err
	}
	expr, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("parsing template: %w", diags)
	}
	names := map[string]cty.Value{}
	for it := vars.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if !hclsyntax.ValidIdentifier(k.AsString()) {
			return cty.NilVal, fmt.Errorf("invalid template variable name %q: must start with a letter or underscore and contain only letters, digits, underscores and dashes", k.AsString())
		}
		names[k.AsString()] = v
	}
	if err := checkTemplateVars(expr, names); err != nil {
		return cty.NilVal, err
	}
	val, diags := expr.Value(&hcl.EvalContext{Variables: names, Functions: fns})
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("rendering template: %w", diags)
	}
	return val, nil
}

// checkTemplateVars reports a template reference to a variable not given in
// vars with its position in the template, which the evaluation error alone
// would not make obvious to the caller of templatefile.
func checkTemplateVars(expr hcl.Expression, vars map[string]cty.Value) error {
	var missing []string
	for _, t := range expr.Variables() {
		if _, ok := vars[t.RootName()]; !ok {
			missing = append(missing, fmt.Sprintf("%q (at %s)", t.RootName(), t.SourceRange()))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("vars map does not contain key %s", strings.Join(missing, ", "))
}
