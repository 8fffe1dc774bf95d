// Package config loads airctl configurations: a directory of
// Terraform-compatible HCL (*.tf) plus airctl's own *.airctl.hcl files, which
// may add deploy blocks.
//
// Loading parses, structures and statically checks the configuration
// (unknown block types and arguments, duplicate names, references to
// undeclared objects, unknown functions, count/each outside counted
// resources). It does not evaluate resources: the engine does that with
// state, using References for its graph, Scope for evaluation contexts,
// Functions for the function table and ExpandBody for dynamic blocks.
// ResolveVariables supplies input variable values.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function"
)

// LoadDir loads every *.tf and *.airctl.hcl file directly in dir (not
// subdirectories). The returned Config is never nil, so that its Files can
// render the diagnostics even when loading failed.
func LoadDir(dir string) (*Config, hcl.Diagnostics) {
	names, diags := configFileNames(dir)
	files := make(map[string][]byte, len(names))
	for _, name := range names {
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Failed to read configuration file",
				Detail:   fmt.Sprintf("Could not read %s: %s.", path, err),
			})
			continue
		}
		files[path] = src
	}
	if len(files) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s contains no *.tf or *.airctl.hcl files.", dir),
		})
	}
	cfg, more := Load(dir, files)
	return cfg, append(diags, more...)
}

// Load loads a configuration from in-memory sources keyed by the filename
// that diagnostics should show; dir is the configuration directory used by
// file functions. Files are processed in name order so results and
// diagnostics are deterministic.
func Load(dir string, files map[string][]byte) (*Config, hcl.Diagnostics) {
	l := newLoader(dir)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l.loadFile(name, files[name])
	}
	l.check()
	sortDiagnostics(l.diags)
	return l.cfg, l.diags
}

// configFileNames lists the configuration files of dir in lexical order,
// skipping editor backups and hidden files the way Terraform does.
// Terraform's override files are refused rather than silently treated as
// ordinary files, because their merge semantics are not implemented.
func configFileNames(dir string) ([]string, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read configuration directory",
			Detail:   fmt.Sprintf("Could not list %s: %s.", dir, err),
		}}
	}
	var names []string
	var diags hcl.Diagnostics
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !isConfigFile(name) {
			continue
		}
		if isOverrideFile(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Override files are not supported",
				Detail:   fmt.Sprintf("%s is a Terraform override file; airctl does not merge override files. Fold its content into the main configuration.", filepath.Join(dir, name)),
			})
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, diags
}

func isConfigFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~") {
		return false
	}
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".airctl.hcl")
}

func isOverrideFile(name string) bool {
	base := strings.TrimSuffix(name, ".tf")
	return base != name && (base == "override" || strings.HasSuffix(base, "_override"))
}

// loader accumulates one configuration and its diagnostics.
type loader struct {
	cfg   *Config
	funcs map[string]function.Function
	diags hcl.Diagnostics
}

func newLoader(dir string) *loader {
	return &loader{
		cfg: &Config{
			Dir:         dir,
			Terraform:   &Terraform{RequiredProviders: map[string]ProviderRequirement{}},
			Providers:   map[string]*Provider{},
			Variables:   map[string]*Variable{},
			Locals:      map[string]*Local{},
			Resources:   map[string]*Resource{},
			DataSources: map[string]*Resource{},
			Outputs:     map[string]*Output{},
			Deploys:     map[string]*Deploy{},
			sources:     newSourceSet(),
		},
		funcs: Functions(dir),
	}
}

func (l *loader) add(diags hcl.Diagnostics) { l.diags = append(l.diags, diags...) }

func (l *loader) errorf(rng *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng,
	})
}

func (l *loader) warnf(rng *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng,
	})
}

// loadFile parses one file and decodes its top-level blocks. A file with
// syntax errors is still decoded as far as the parser got, so one run
// reports as many problems as possible.
func (l *loader) loadFile(name string, src []byte) {
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	l.add(diags)
	if file == nil || file.Body == nil {
		return
	}
	l.cfg.sources.add(name, file)
	content, diags := file.Body.Content(rootSchema())
	l.add(diags)
	for _, b := range content.Blocks {
		l.decodeTopLevel(b)
	}
}

func (l *loader) decodeTopLevel(b *hcl.Block) {
	switch b.Type {
	case "terraform":
		l.decodeTerraform(b)
	case "provider":
		l.decodeProvider(b)
	case "variable":
		l.decodeVariable(b)
	case "locals":
		l.decodeLocals(b)
	case "resource":
		l.decodeResource(b, ManagedResource)
	case "data":
		l.decodeResource(b, DataResource)
	case "output":
		l.decodeOutput(b)
	case "deploy":
		l.decodeDeploy(b)
	default:
		l.errorf(b.DefRange.Ptr(), "Unsupported block type",
			"airctl does not support %q blocks: a configuration is a single root module without modules, moved, import, check or removed blocks.", b.Type)
	}
}

// rootSchema lists the top-level blocks. Terraform blocks airctl does not
// implement are listed too, so that they get a specific message instead of
// hcl's generic "not expected here".
func rootSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "terraform"},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "deploy", LabelNames: []string{"name"}},
		{Type: "module", LabelNames: []string{"name"}},
		{Type: "moved"},
		{Type: "import"},
		{Type: "check", LabelNames: []string{"name"}},
		{Type: "removed"},
	}}
}

// sortDiagnostics orders diagnostics by source position (those without one
// first) so that output does not depend on map iteration order.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		if a == nil || b == nil {
			return a == nil && b != nil
		}
		return rangeLess(*a, *b)
	})
}

func sortByRange[T any](items []T, rng func(T) hcl.Range) {
	sort.SliceStable(items, func(i, j int) bool { return rangeLess(rng(items[i]), rng(items[j])) })
}
