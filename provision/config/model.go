package config

import (
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Config is one loaded configuration directory. Nothing in it is evaluated
// against state: expressions and bodies are kept for the engine, which
// evaluates them with a Scope once it knows the values they refer to.
type Config struct {
	// Dir is the directory the configuration was loaded from; relative paths
	// in file functions and tfvars discovery start here.
	Dir string

	Terraform   *Terraform           // merged from every terraform block; never nil
	Providers   map[string]*Provider // by address: "google", "google.west"
	Variables   map[string]*Variable
	Locals      map[string]*Local
	Resources   map[string]*Resource // by address: "google_compute_instance.vm"
	DataSources map[string]*Resource // by address: "data.google_compute_image.debian"
	Outputs     map[string]*Output
	Deploys     map[string]*Deploy

	sources *sourceSet
}

// Files returns every source parsed for this configuration, including tfvars
// files and -var values read by ResolveVariables, keyed by the filename used
// in diagnostic ranges. It is what hcl.NewDiagnosticTextWriter needs to show
// source snippets.
func (c *Config) Files() map[string]*hcl.File {
	return c.sources.snapshot()
}

// Terraform is the content of the terraform blocks.
type Terraform struct {
	// RequiredVersion is kept for information only: airctl is not Terraform,
	// so the constraint is not checked (a warning says so).
	RequiredVersion   string
	RequiredProviders map[string]ProviderRequirement
	Backend           *Backend // nil: the default local backend
}

// ProviderRequirement is one entry of required_providers.
type ProviderRequirement struct {
	Name      string
	Source    string
	Version   string
	DeclRange hcl.Range
}

// Backend is the terraform { backend "type" { ... } } block. Backend
// arguments may not refer to anything (as in Terraform), so they are
// evaluated at load time into Attrs.
type Backend struct {
	Type      string // "local" or "gcs"
	Attrs     map[string]cty.Value
	Config    hcl.Body
	DeclRange hcl.Range
	TypeRange hcl.Range
}

// Provider is a provider "name" { ... } block.
type Provider struct {
	Name       string
	Alias      string
	AliasRange *hcl.Range
	// Config is the body without alias and version, decoded later against
	// the provider's own schema.
	Config     hcl.Body
	References []Reference
	DeclRange  hcl.Range
}

// Addr is the provider configuration address ("google" or "google.west").
func (p *Provider) Addr() string {
	return providerAddr(p.Name, p.Alias)
}

func providerAddr(name, alias string) string {
	if alias == "" {
		return name
	}
	return name + "." + alias
}

// ProviderRef is the provider meta-argument of a resource (google.west).
type ProviderRef struct {
	Name  string
	Alias string
	Range hcl.Range
}

// Addr is the provider configuration address the reference selects.
func (r ProviderRef) Addr() string { return providerAddr(r.Name, r.Alias) }

// VariableParseMode says how a value given as a raw string (environment,
// -var, prompt) is interpreted, following Terraform: primitive types and
// unconstrained-by-type variables take the string literally, everything else
// parses it as an HCL expression.
type VariableParseMode int

const (
	ParseLiteral VariableParseMode = iota
	ParseHCL
)

// Variable is a variable "name" { ... } block.
type Variable struct {
	Name        string
	Description string
	// Type is the declared type constraint; cty.DynamicPseudoType when the
	// block has no type.
	Type         cty.Type
	TypeDefaults *typeexpr.Defaults // optional(...) attribute defaults, or nil
	ParseMode    VariableParseMode
	// Default is cty.NilVal when the variable has no default (it is
	// required); a null default makes it optional with a null value.
	Default     cty.Value
	Sensitive   bool
	Nullable    bool
	Validations []*Validation
	DeclRange   hcl.Range
}

// Required reports whether the variable must be given a value.
func (v *Variable) Required() bool { return v.Default == cty.NilVal }

// Validation is a validation { condition, error_message } block.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	// References of condition and error_message; only input variables are
	// allowed, since validation runs while variables are being resolved.
	References []Reference
	DeclRange  hcl.Range
}

// Local is one named value in a locals block.
type Local struct {
	Name       string
	Expr       hcl.Expression
	References []Reference
	DeclRange  hcl.Range
}

// ResourceMode tells managed resources from data sources.
type ResourceMode int

const (
	ManagedResource ResourceMode = iota
	DataResource
)

func (m ResourceMode) String() string {
	if m == DataResource {
		return "data source"
	}
	return "resource"
}

// Resource is a resource or data block with its meta-arguments extracted.
type Resource struct {
	Mode ResourceMode
	Type string
	Name string

	Count     hcl.Expression // nil when not set
	ForEach   hcl.Expression // nil when not set
	DependsOn []Reference
	Provider  *ProviderRef // nil: the default configuration of the implied provider
	Lifecycle Lifecycle

	// Config is the body without meta-arguments, to be decoded against the
	// provider schema after ExpandBody has expanded dynamic blocks.
	Config hcl.Body
	// References are every reference in Config, count and for_each (not
	// depends_on, which is separate): the engine's graph edges.
	References []Reference

	DeclRange hcl.Range
	TypeRange hcl.Range
}

// Addr is "type.name" for managed resources and "data.type.name" for data
// sources, matching how expressions refer to them.
func (r *Resource) Addr() string {
	if r.Mode == DataResource {
		return "data." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

// ProviderAddr is the address of the provider configuration that manages the
// resource: the explicit provider meta-argument, or else the default
// configuration of the provider named by the type's prefix, as in Terraform
// (google_compute_instance → google).
func (r *Resource) ProviderAddr() string {
	if r.Provider != nil {
		return r.Provider.Addr()
	}
	return ImpliedProvider(r.Type)
}

// ImpliedProvider is the provider name Terraform infers from a resource type.
func ImpliedProvider(resourceType string) string {
	name, _, _ := strings.Cut(resourceType, "_")
	return name
}

// Lifecycle is the lifecycle block of a managed resource.
type Lifecycle struct {
	CreateBeforeDestroy bool
	PreventDestroy      bool
	// IgnoreChanges are attribute paths relative to the resource
	// (tags["env"], metadata).
	IgnoreChanges    []hcl.Traversal
	IgnoreAllChanges bool
	// ReplaceTriggeredBy are references whose change forces replacement.
	ReplaceTriggeredBy []Reference
	DeclRange          *hcl.Range // nil when the resource has no lifecycle block
}

// Output is an output "name" { ... } block.
type Output struct {
	Name        string
	Value       hcl.Expression
	Description string
	Sensitive   bool
	DependsOn   []Reference
	References  []Reference
	DeclRange   hcl.Range
}

// Deploy is airctl's deploy "name" { ... } block. Its body belongs to the
// deployer; the loader only records what it refers to so the engine can
// order the deploy after the resources it needs.
type Deploy struct {
	Name       string
	Config     hcl.Body
	References []Reference
	DeclRange  hcl.Range
}

// sourceSet holds parsed files for diagnostics rendering. It is locked
// because ResolveVariables adds tfvars files after loading, possibly while
// another goroutine renders diagnostics.
type sourceSet struct {
	mu    sync.Mutex
	files map[string]*hcl.File
}

func newSourceSet() *sourceSet {
	return &sourceSet{files: map[string]*hcl.File{}}
}

func (s *sourceSet) add(name string, f *hcl.File) {
	if f == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = f
}

func (s *sourceSet) snapshot() map[string]*hcl.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*hcl.File, len(s.files))
	for k, v := range s.files {
		out[k] = v
	}
	return out
}
