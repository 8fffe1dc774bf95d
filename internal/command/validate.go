package command

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/render"
)

const validateUsage = `Usage: airctl [global options] validate [options]

  Checks the configuration without touching state or any API: syntax,
  references, and every resource, data source and provider block against
  its provider's schema (unknown arguments, wrong types, missing required
  arguments, values only the provider may set). Variables need no values.

Options:
  -json      Print the result as JSON.
  -no-color  No colour in the output.
`

func runValidate(m *meta, args []string) int {
	fs := m.flagSet()
	asJSON := fs.Bool("json", false, "print as JSON")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return m.usageError("validate takes no arguments; use -chdir=DIR for another directory")
	}
	cfg, diags := config.LoadDir(m.dir)
	m.cfg = cfg
	if !diags.HasErrors() {
		diags = append(diags, m.checkSchemas(cfg)...)
	}
	sortByPosition(diags)
	if *asJSON {
		return m.validateJSON(diags)
	}
	m.diagnostics(diags)
	if diags.HasErrors() {
		return exitError
	}
	fmt.Fprintln(m.stdout, m.opts().Bold("Success!")+" The configuration is valid.")
	return exitOK
}

func (m *meta) validateJSON(diags hcl.Diagnostics) int {
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	jd := render.Diagnostics(m.relative(diags), m.files())
	if jd == nil {
		jd = []*render.Diagnostic{}
	}
	b, _ := json.MarshalIndent(map[string]any{
		"format_version": "1.0", "valid": errs == 0, "error_count": errs, "warning_count": warns, "diagnostics": jd,
	}, "", "  ")
	fmt.Fprintln(m.stdout, string(b))
	if errs > 0 {
		return exitError
	}
	return exitOK
}

// checkSchemas decodes every provider, resource and data block against
// its provider's schema, with every variable, resource and local unknown:
// literal mistakes are caught, references pass (plan checks their values).
func (m *meta) checkSchemas(cfg *config.Config) hcl.Diagnostics {
	evalCtx, err := unknownScope(cfg).EvalContext()
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot build the evaluation scope", Detail: err.Error()}}
	}
	schemas, diags := m.providerSchemas(cfg)
	for _, addr := range sortedKeys(cfg.Providers) {
		p := cfg.Providers[addr]
		if ps, ok := schemas[p.Name]; ok && ps.Provider != nil {
			diags = append(diags, decodeAgainst(p.Config, ps.Provider, evalCtx)...)
		}
	}
	for _, r := range resourcesInOrder(cfg) {
		diags = append(diags, checkResource(r, schemas, evalCtx)...)
	}
	return diags
}

// providerSchemas loads the schema of every provider the configuration
// uses, reporting the ones this airctl does not have.
func (m *meta) providerSchemas(cfg *config.Config) (map[string]provider.ProviderSchema, hcl.Diagnostics) {
	out := map[string]provider.ProviderSchema{}
	var diags hcl.Diagnostics
	need := func(name string, rng hcl.Range) {
		if _, done := out[name]; done {
			return
		}
		f := m.env.Providers[name]
		if f == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Provider not available",
				Detail:  fmt.Sprintf("This airctl has no %q provider (it has: %s). Check the resource type's prefix or the provider argument.", name, strings.Join(sortedKeys(m.env.Providers), ", ")),
				Subject: rng.Ptr(),
			})
			out[name] = provider.ProviderSchema{}
			return
		}
		out[name] = f().Schema()
	}
	for _, addr := range sortedKeys(cfg.Providers) {
		need(cfg.Providers[addr].Name, cfg.Providers[addr].DeclRange)
	}
	for _, r := range resourcesInOrder(cfg) {
		name, _, _ := strings.Cut(r.ProviderAddr(), ".")
		need(name, r.TypeRange)
	}
	return out, diags
}

func checkResource(r *config.Resource, schemas map[string]provider.ProviderSchema, evalCtx *hcl.EvalContext) hcl.Diagnostics {
	name, _, _ := strings.Cut(r.ProviderAddr(), ".")
	ps := schemas[name]
	types, kind := ps.Resources, "resource"
	if r.Mode == config.DataResource {
		types, kind = ps.DataSources, "data source"
	}
	if ps.Resources == nil && ps.DataSources == nil {
		return nil // provider missing: already reported
	}
	sch := types[r.Type]
	if sch == nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Invalid " + kind + " type",
			Detail:  fmt.Sprintf("The provider %s has no %s type %q (it has: %s).", name, kind, r.Type, strings.Join(sortedKeys(types), ", ")),
			Subject: r.TypeRange.Ptr(),
		}}
	}
	ctx := evalCtx
	if r.Count != nil {
		ctx = config.WithCount(ctx, cty.UnknownVal(cty.Number))
	}
	if r.ForEach != nil {
		ctx = config.WithEach(ctx, cty.UnknownVal(cty.String), cty.DynamicVal)
	}
	diags := decodeAgainst(r.Config, sch, ctx)
	if diags.HasErrors() {
		return diags
	}
	val, _ := hcldec.Decode(config.ExpandBody(r.Config, ctx), sch.DecoderSpec(), ctx)
	if err := sch.CheckConfig(val); err != nil {
		for _, e := range flatten(err) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid argument",
				Detail: fmt.Sprintf("%s: %v.", r.Addr(), e), Subject: argRange(r.Config, e.Error(), r.DeclRange).Ptr(),
			})
		}
	}
	return diags
}

func decodeAgainst(body hcl.Body, sch *provider.Schema, ctx *hcl.EvalContext) hcl.Diagnostics {
	_, diags := hcldec.Decode(config.ExpandBody(body, ctx), sch.DecoderSpec(), ctx)
	return diags
}

// argRange points at the top-level argument a CheckConfig message names
// ("cannot set id: ..."), or at the block when it cannot tell.
func argRange(body hcl.Body, msg string, fallback hcl.Range) hcl.Range {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return fallback
	}
	for name, a := range sb.Attributes {
		if strings.HasPrefix(msg, "cannot set "+name+":") {
			return a.SrcRange
		}
	}
	return fallback
}

// unknownScope has every name a configuration may refer to, all unknown
// (variables with their declared type).
func unknownScope(cfg *config.Config) *config.Scope {
	s := &config.Scope{BaseDir: cfg.Dir, Variables: map[string]cty.Value{}, Locals: map[string]cty.Value{}, Resources: map[string]cty.Value{}, DataSources: map[string]cty.Value{}}
	for name, v := range cfg.Variables {
		ty := v.Type
		if ty == cty.NilType {
			ty = cty.DynamicPseudoType
		}
		s.Variables[name] = cty.UnknownVal(ty)
	}
	for name := range cfg.Locals {
		s.Locals[name] = cty.DynamicVal
	}
	for addr := range cfg.Resources {
		s.Resources[addr] = cty.DynamicVal
	}
	for addr := range cfg.DataSources {
		s.DataSources[addr] = cty.DynamicVal
	}
	return s
}

func resourcesInOrder(cfg *config.Config) []*config.Resource {
	var out []*config.Resource
	for _, r := range cfg.Resources {
		out = append(out, r)
	}
	for _, r := range cfg.DataSources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].DeclRange, out[j].DeclRange
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortByPosition orders diagnostics by file and position (those without a
// position first), so output is stable and reads top to bottom.
func sortByPosition(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
