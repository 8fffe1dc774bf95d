package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file decodes the top-level blocks other than resources and
// variables, plus the helpers all decoders share.

func (l *loader) decodeTerraform(b *hcl.Block) {
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "required_providers"},
			{Type: "backend", LabelNames: []string{"type"}},
		},
	})
	l.add(diags)
	tf := l.cfg.Terraform
	if a := content.Attributes["required_version"]; a != nil {
		v, diags := staticString(a.Expr)
		l.add(diags)
		tf.RequiredVersion = v
		l.warnf(a.Range.Ptr(), "Terraform version constraint ignored",
			"airctl implements the Terraform language itself, so required_version = %q is not checked.", v)
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "required_providers":
			l.decodeRequiredProviders(blk)
		case "backend":
			l.decodeBackend(blk)
		}
	}
}

func (l *loader) decodeRequiredProviders(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.add(diags)
	for _, a := range sortedAttributes(attrs) {
		if prev, ok := l.cfg.Terraform.RequiredProviders[a.Name]; ok {
			l.errorf(a.NameRange.Ptr(), "Duplicate required provider",
				"Provider %q was already required at %s.", a.Name, prev.DeclRange)
			continue
		}
		req := ProviderRequirement{Name: a.Name, DeclRange: a.Range}
		l.decodeRequirement(a, &req)
		l.cfg.Terraform.RequiredProviders[a.Name] = req
	}
}

// decodeRequirement accepts both the current object form
// ({ source = "...", version = "..." }) and the legacy version string.
func (l *loader) decodeRequirement(a *hcl.Attribute, req *ProviderRequirement) {
	if s, diags := staticString(a.Expr); !diags.HasErrors() {
		req.Version = s
		return
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		l.errorf(a.Expr.Range().Ptr(), "Invalid required_providers entry",
			"A required provider is an object like { source = \"hashicorp/google\", version = \"~> 5.0\" }.")
		return
	}
	for _, p := range pairs {
		key := hcl.ExprAsKeyword(p.Key)
		if key == "" {
			key, _ = staticString(p.Key) // a quoted key: "source" = ...
		}
		switch key {
		case "source", "version":
			v, diags := staticString(p.Value)
			l.add(diags)
			if key == "source" {
				req.Source = v
			} else {
				req.Version = v
			}
		case "configuration_aliases":
			// Only meaningful for child modules, which airctl does not have.
		default:
			l.errorf(p.Key.Range().Ptr(), "Invalid required_providers object",
				"required_providers objects can only contain \"version\", \"source\" and \"configuration_aliases\" attributes.")
		}
	}
}

// backendSchema lists the arguments Terraform's local and gcs backends
// accept, so that typos are caught at load time instead of being ignored.
func backendSchema(typ string) (*hcl.BodySchema, bool) {
	switch typ {
	case "local":
		return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path"}, {Name: "workspace_dir"}}}, true
	case "gcs":
		return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "bucket", Required: true}, {Name: "prefix"}, {Name: "credentials"}, {Name: "access_token"},
			{Name: "impersonate_service_account"}, {Name: "impersonate_service_account_delegates"},
			{Name: "encryption_key"}, {Name: "kms_encryption_key"}, {Name: "storage_custom_endpoint"},
		}}, true
	}
	return nil, false
}

func (l *loader) decodeBackend(b *hcl.Block) {
	typ := b.Labels[0]
	if prev := l.cfg.Terraform.Backend; prev != nil {
		l.errorf(b.DefRange.Ptr(), "Duplicate backend configuration",
			"A configuration may have only one backend; it was already configured at %s.", prev.DeclRange)
		return
	}
	schema, ok := backendSchema(typ)
	if !ok {
		l.errorf(b.LabelRanges[0].Ptr(), "Unsupported backend type",
			"airctl supports the \"local\" and \"gcs\" backends, not %q.", typ)
		return
	}
	content, diags := b.Body.Content(schema)
	l.add(diags)
	be := &Backend{Type: typ, Attrs: map[string]cty.Value{}, Config: b.Body, DeclRange: b.DefRange, TypeRange: b.LabelRanges[0]}
	for name, a := range content.Attributes {
		// Backends are configured before anything else is known, so their
		// arguments may not refer to variables (as in Terraform).
		v, diags := a.Expr.Value(nil)
		l.add(diags)
		if !diags.HasErrors() {
			be.Attrs[name] = v
		}
	}
	l.cfg.Terraform.Backend = be
}

func (l *loader) decodeProvider(b *hcl.Block) {
	p := &Provider{Name: b.Labels[0], DeclRange: b.DefRange}
	if !l.checkName(b.LabelRanges[0], p.Name, "provider") {
		return
	}
	content, remain, diags := b.Body.PartialContent(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "alias"}, {Name: "version"}},
	})
	l.add(diags)
	p.Config = remain
	if a := content.Attributes["alias"]; a != nil {
		alias, diags := staticString(a.Expr)
		l.add(diags)
		if !diags.HasErrors() && l.checkName(a.Expr.Range(), alias, "provider alias") {
			p.Alias, p.AliasRange = alias, a.Expr.Range().Ptr()
		}
	}
	if a := content.Attributes["version"]; a != nil {
		l.warnf(a.Range.Ptr(), "Provider version constraint ignored",
			"Version constraints in provider blocks are deprecated in Terraform and not used by airctl; use required_providers.")
	}
	p.References = l.walkBody(b.Body, &skipSet{attrs: map[string]bool{"alias": true, "version": true}})
	if prev, ok := l.cfg.Providers[p.Addr()]; ok {
		l.errorf(b.DefRange.Ptr(), "Duplicate provider configuration",
			"A provider configuration for %s was already given at %s. Use alias to configure the same provider more than once.", p.Addr(), prev.DeclRange)
		return
	}
	l.cfg.Providers[p.Addr()] = p
}

func (l *loader) decodeLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.add(diags)
	for _, a := range sortedAttributes(attrs) {
		if prev, ok := l.cfg.Locals[a.Name]; ok {
			l.errorf(a.NameRange.Ptr(), "Duplicate local value definition",
				"A local value named %q was already defined at %s. Local value names must be unique.", a.Name, prev.DeclRange)
			continue
		}
		l.cfg.Locals[a.Name] = &Local{Name: a.Name, Expr: a.Expr, References: l.walkExpr(a.Expr), DeclRange: a.Range}
	}
}

func (l *loader) decodeOutput(b *hcl.Block) {
	o := &Output{Name: b.Labels[0], DeclRange: b.DefRange}
	if !l.checkName(b.LabelRanges[0], o.Name, "output") {
		return
	}
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"}, {Name: "depends_on"},
	}})
	l.add(diags)
	if a := content.Attributes["value"]; a != nil {
		o.Value = a.Expr
		o.References = l.walkExpr(a.Expr)
	}
	if a := content.Attributes["description"]; a != nil {
		o.Description = l.staticString(a.Expr)
	}
	if a := content.Attributes["sensitive"]; a != nil {
		o.Sensitive = l.staticBool(a.Expr)
	}
	if a := content.Attributes["depends_on"]; a != nil {
		o.DependsOn = l.decodeDependsOn(a)
	}
	if prev, ok := l.cfg.Outputs[o.Name]; ok {
		l.errorf(b.DefRange.Ptr(), "Duplicate output definition",
			"An output named %q was already defined at %s. Output names must be unique.", o.Name, prev.DeclRange)
		return
	}
	l.cfg.Outputs[o.Name] = o
}

// decodeDeploy keeps the body raw for the deployer, which owns its schema;
// only the references are needed here, for graph edges.
func (l *loader) decodeDeploy(b *hcl.Block) {
	d := &Deploy{Name: b.Labels[0], Config: b.Body, DeclRange: b.DefRange}
	if !l.checkName(b.LabelRanges[0], d.Name, "deploy") {
		return
	}
	d.References = l.walkBody(b.Body, nil)
	if prev, ok := l.cfg.Deploys[d.Name]; ok {
		l.errorf(b.DefRange.Ptr(), "Duplicate deploy block",
			"A deploy block named %q was already defined at %s.", d.Name, prev.DeclRange)
		return
	}
	l.cfg.Deploys[d.Name] = d
}

// checkName reports a block label that cannot be referred to from
// expressions.
func (l *loader) checkName(rng hcl.Range, name, what string) bool {
	if hclsyntax.ValidIdentifier(name) {
		return true
	}
	l.errorf(rng.Ptr(), fmt.Sprintf("Invalid %s name", what),
		"%q is not a valid name: a name must start with a letter or underscore and may contain only letters, digits, underscores and dashes.", name)
	return false
}

// walkBody collects the references of a body and checks its function calls.
func (l *loader) walkBody(body hcl.Body, skip *skipSet) []Reference {
	w := &refWalker{}
	w.anyBody(body, nil, skip)
	return l.finishWalk(w)
}

func (l *loader) walkExpr(expr hcl.Expression) []Reference {
	w := &refWalker{}
	w.expr(expr, nil)
	return l.finishWalk(w)
}

func (l *loader) finishWalk(w *refWalker) []Reference {
	refs, diags := w.result()
	l.add(diags)
	for _, call := range w.calls {
		if _, ok := l.funcs[call.Name]; !ok {
			l.errorf(call.NameRange.Ptr(), "Call to unknown function", "There is no function named %q.", call.Name)
		}
	}
	return refs
}

// staticString evaluates an expression that may not refer to anything
// (descriptions, aliases, versions) as a known, non-null string.
func staticString(expr hcl.Expression) (string, hcl.Diagnostics) {
	v, diags := staticValue(expr, cty.String)
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), diags
}

func staticBool(expr hcl.Expression) (bool, hcl.Diagnostics) {
	v, diags := staticValue(expr, cty.Bool)
	if diags.HasErrors() {
		return false, diags
	}
	return v.True(), diags
}

func staticValue(expr hcl.Expression, ty cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, err := convert.Convert(v, ty)
	if err == nil && (v.IsNull() || !v.IsKnown()) {
		err = fmt.Errorf("a non-null %s is required", ty.FriendlyName())
	}
	if err != nil {
		return cty.NilVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid value",
			Detail: fmt.Sprintf("Expected a literal %s: %s.", ty.FriendlyName(), err), Subject: expr.Range().Ptr(),
		})
	}
	return v, diags
}

func (l *loader) staticString(expr hcl.Expression) string {
	s, diags := staticString(expr)
	l.add(diags)
	return s
}

func (l *loader) staticBool(expr hcl.Expression) bool {
	v, diags := staticBool(expr)
	l.add(diags)
	return v
}

// sortedAttributes orders attributes by position for deterministic
// duplicate detection and diagnostics.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sortByRange(out, func(a *hcl.Attribute) hcl.Range { return a.Range })
	return out
}
