package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// VarOptions are the sources of input variable values besides defaults.
// Precedence, lowest to highest, is Terraform's: defaults, environment
// (TF_VAR_name, then AIRCTL_VAR_name), terraform.tfvars(.json),
// *.auto.tfvars(.json) in lexical order, then Args in command-line order,
// then Prompted.
type VarOptions struct {
	// Dir is searched for terraform.tfvars and *.auto.tfvars; "" means the
	// configuration directory.
	Dir string
	// Env holds "NAME=value" pairs, normally os.Environ(). It is passed in
	// rather than read so that tests and callers control it.
	Env []string
	// Args are the -var and -var-file options, in the order given: as in
	// Terraform, a later option overrides an earlier one.
	Args []VarArg
	// Prompted are raw values the CLI asked for interactively after a
	// MissingVariablesError; they are read like -var values.
	Prompted map[string]string
}

// VarArg is one -var or -var-file option; exactly one field is set.
type VarArg struct {
	File   string // -var-file=FILE
	Assign string // -var 'NAME=VALUE'
}

// MissingVariablesError lists required variables that got no value. It is
// attached (as Extra) to each "No value for required variable" diagnostic;
// MissingVariables finds it so the CLI can prompt on a TTY and fail in CI.
type MissingVariablesError struct {
	Variables []*Variable // sorted by name
}

func (e *MissingVariablesError) Error() string {
	return "no value for required variables: " + strings.Join(e.Names(), ", ")
}

// Names are the names of the missing variables, sorted.
func (e *MissingVariablesError) Names() []string {
	names := make([]string, len(e.Variables))
	for i, v := range e.Variables {
		names[i] = v.Name
	}
	return names
}

// MissingVariables returns the MissingVariablesError carried by diags from
// ResolveVariables, or nil when no required variable is missing.
func MissingVariables(diags hcl.Diagnostics) *MissingVariablesError {
	for _, d := range diags {
		if e, ok := hcl.DiagnosticExtra[*MissingVariablesError](d); ok {
			return e
		}
	}
	return nil
}

// ResolveVariables computes the value of every declared variable: gathered
// from all sources, converted to the declared type (with optional attribute
// defaults), checked against nullable, marked Sensitive where declared, and
// run through the validation rules. Variables that are missing or invalid
// are absent from the result and reported in the diagnostics.
func ResolveVariables(cfg *Config, opts VarOptions) (map[string]cty.Value, hcl.Diagnostics) {
	r := &resolver{cfg: cfg, raw: map[string]rawValue{}}
	dir := opts.Dir
	if dir == "" {
		dir = cfg.Dir
	}
	r.fromEnv(opts.Env, "TF_VAR_")
	r.fromEnv(opts.Env, "AIRCTL_VAR_")
	r.fromVarsFiles(dir)
	for _, arg := range opts.Args {
		r.fromArg(arg)
	}
	r.fromPrompted(opts.Prompted)
	values := r.finalize()
	r.validateAll(values)
	sortDiagnostics(r.diags)
	return values, r.diags
}

// rawValue is one variable value before conversion: either already
// evaluated (tfvars) or a string whose reading depends on the declaration.
type rawValue struct {
	value  cty.Value // cty.NilVal when str is to be parsed
	str    string
	source string    // for messages: "terraform.tfvars", "-var option", ...
	rng    hcl.Range // where the value was written
	failed bool      // the source had an error, already reported
}

type resolver struct {
	cfg   *Config
	raw   map[string]rawValue
	diags hcl.Diagnostics
}

func (r *resolver) errorf(rng *hcl.Range, summary, format string, args ...any) {
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng})
}

// fromEnv reads PREFIXname variables. Values for undeclared names are
// ignored silently, as in Terraform: environments are shared by many tools.
func (r *resolver) fromEnv(env []string, prefix string) {
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		name = strings.TrimPrefix(name, prefix)
		if _, declared := r.cfg.Variables[name]; declared {
			r.setString(name, val, "environment variable "+prefix+name)
		}
	}
}

// setString records a raw string value with a synthetic source file, so
// that diagnostics about it can still show the text.
func (r *resolver) setString(name, val, source string) {
	filename := fmt.Sprintf("<value for var.%s from %s>", name, source)
	r.cfg.sources.add(filename, &hcl.File{Body: hcl.EmptyBody(), Bytes: []byte(val)})
	r.raw[name] = rawValue{str: val, source: source, rng: wholeRange(filename, val)}
}

func wholeRange(filename, text string) hcl.Range {
	end := hcl.Pos{Line: 1, Column: 1, Byte: len(text)}
	if i := strings.IndexByte(text, '\n'); i < 0 {
		end.Column = 1 + len(text)
	}
	return hcl.Range{Filename: filename, Start: hcl.InitialPos, End: end}
}

// fromVarsFiles reads terraform.tfvars(.json) and then *.auto.tfvars(.json)
// in lexical order.
func (r *resolver) fromVarsFiles(dir string) {
	for _, name := range []string{"terraform.tfvars", "terraform.tfvars.json"} {
		r.fromFile(filepath.Join(dir, name), true)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.errorf(nil, "Failed to read variables directory", "Could not list %s: %s.", dir, err)
		return
	}
	var auto []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".auto.tfvars") || strings.HasSuffix(e.Name(), ".auto.tfvars.json")) {
			auto = append(auto, e.Name())
		}
	}
	sort.Strings(auto)
	for _, name := range auto {
		r.fromFile(filepath.Join(dir, name), false)
	}
}

func (r *resolver) fromArg(arg VarArg) {
	if arg.File != "" {
		r.fromFile(arg.File, false)
		return
	}
	name, val, ok := strings.Cut(arg.Assign, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		r.errorf(nil, "Invalid -var option",
			"The given -var option %q is not correctly specified. It must be a variable name and value separated by an equals sign, like -var=\"key=value\".", arg.Assign)
		return
	}
	if _, declared := r.cfg.Variables[name]; !declared {
		r.errorf(nil, "Value for undeclared variable",
			"A variable named %q was assigned with -var, but the configuration does not declare a variable of that name. To use this value, add a variable %q {} block.", name, name)
		return
	}
	r.setString(name, val, "-var option")
}

func (r *resolver) fromPrompted(values map[string]string) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, declared := r.cfg.Variables[name]; !declared {
			r.errorf(nil, "Value for undeclared variable", "A value was entered for %q, which the configuration does not declare.", name)
			continue
		}
		r.setString(name, values[name], "interactive input")
	}
}

// fromFile reads a tfvars file: HCL (or JSON for *.json) attributes whose
// values may not refer to anything. A missing optional file is not an
// error; values for undeclared variables only warn, because one tfvars file
// is often shared by several configurations.
func (r *resolver) fromFile(path string, optional bool) {
	src, err := os.ReadFile(path)
	if err != nil {
		if !(optional && errors.Is(err, os.ErrNotExist)) {
			r.errorf(nil, "Failed to read variables file", "Could not read %s: %s.", path, err)
		}
		return
	}
	var file *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		file, diags = hcljson.Parse(src, path)
	} else {
		file, diags = hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	}
	r.diags = append(r.diags, diags...)
	if file == nil || file.Body == nil {
		return
	}
	r.cfg.sources.add(path, file)
	attrs, diags := file.Body.JustAttributes()
	r.diags = append(r.diags, diags...)
	for _, a := range sortedAttributes(attrs) {
		r.fromAttribute(a, path)
	}
}

func (r *resolver) fromAttribute(a *hcl.Attribute, path string) {
	if _, declared := r.cfg.Variables[a.Name]; !declared {
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Value for undeclared variable",
			Detail:   fmt.Sprintf("The configuration does not declare a variable named %q, but a value was found in %s. If you meant to use it, add a variable %q {} block.", a.Name, path, a.Name),
			Subject:  a.NameRange.Ptr(),
		})
		return
	}
	val, diags := a.Expr.Value(nil)
	r.diags = append(r.diags, diags...)
	if diags.HasErrors() {
		// Remember the failure so that finalize neither falls back to the
		// default nor reports the variable as missing.
		r.raw[a.Name] = rawValue{failed: true}
		return
	}
	r.raw[a.Name] = rawValue{value: val, source: path, rng: a.Expr.Range()}
}
