package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// resourceMetaSchema lists the meta-arguments the engine interprets itself;
// everything else in a resource body belongs to the provider schema.
// Provisioners are listed only to be refused with a clear message.
func resourceMetaSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "count"}, {Name: "for_each"}, {Name: "depends_on"}, {Name: "provider"},
		},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "lifecycle"},
			{Type: "provisioner", LabelNames: []string{"type"}},
			{Type: "connection"},
		},
	}
}

// resourceSkip are the parts of a resource body whose traversals are not
// value references: depends_on and provider are decoded separately, and
// lifecycle holds attribute paths (ignore_changes) rather than references.
func resourceSkip() *skipSet {
	return &skipSet{
		attrs:  map[string]bool{"depends_on": true, "provider": true},
		blocks: map[string]bool{"lifecycle": true, "provisioner": true, "connection": true},
	}
}

func (l *loader) decodeResource(b *hcl.Block, mode ResourceMode) {
	r := &Resource{Mode: mode, Type: b.Labels[0], Name: b.Labels[1], DeclRange: b.DefRange, TypeRange: b.LabelRanges[0]}
	if !l.checkName(b.LabelRanges[0], r.Type, mode.String()+" type") || !l.checkName(b.LabelRanges[1], r.Name, mode.String()) {
		return
	}
	if reservedRootName(r.Type) {
		l.errorf(b.LabelRanges[0].Ptr(), "Invalid "+mode.String()+" type",
			"%q is a reserved name in expressions (like var or count), so it cannot be a resource type.", r.Type)
		return
	}
	content, remain, diags := b.Body.PartialContent(resourceMetaSchema())
	l.add(diags)
	r.Config = remain
	l.decodeMetaArguments(r, content)
	for _, blk := range content.Blocks {
		l.decodeResourceBlock(r, blk)
	}
	r.References = l.walkBody(b.Body, resourceSkip())
	l.addResource(r)
}

func (l *loader) decodeMetaArguments(r *Resource, content *hcl.BodyContent) {
	if a := content.Attributes["count"]; a != nil {
		r.Count = a.Expr
	}
	if a := content.Attributes["for_each"]; a != nil {
		r.ForEach = a.Expr
		if r.Count != nil {
			l.errorf(a.NameRange.Ptr(), `Invalid combination of "count" and "for_each"`,
				`The "count" and "for_each" meta-arguments are mutually exclusive: only one may be used to say how many instances of %s to create.`, r.Addr())
		}
	}
	if a := content.Attributes["depends_on"]; a != nil {
		r.DependsOn = l.decodeDependsOn(a)
	}
	if a := content.Attributes["provider"]; a != nil {
		r.Provider = l.decodeProviderRef(a)
	}
}

func (l *loader) decodeResourceBlock(r *Resource, blk *hcl.Block) {
	switch blk.Type {
	case "lifecycle":
		if r.Mode == DataResource {
			l.errorf(blk.DefRange.Ptr(), "Unsupported lifecycle block",
				"Data sources are only read, so lifecycle settings do not apply to them.")
			return
		}
		if prev := r.Lifecycle.DeclRange; prev != nil {
			l.errorf(blk.DefRange.Ptr(), "Duplicate lifecycle block",
				"%s already has a lifecycle block at %s.", r.Addr(), prev)
			return
		}
		l.decodeLifecycle(r, blk)
	default:
		l.errorf(blk.DefRange.Ptr(), "Provisioners are not supported",
			"airctl does not run %s blocks; use a deploy block to configure hosts.", blk.Type)
	}
}

func (l *loader) addResource(r *Resource) {
	table := l.cfg.Resources
	if r.Mode == DataResource {
		table = l.cfg.DataSources
	}
	if prev, ok := table[r.Addr()]; ok {
		l.errorf(r.DeclRange.Ptr(), "Duplicate resource configuration",
			"%s was already declared at %s. Resource names must be unique per type.", r.Addr(), prev.DeclRange)
		return
	}
	table[r.Addr()] = r
}

func (l *loader) decodeLifecycle(r *Resource, blk *hcl.Block) {
	r.Lifecycle.DeclRange = blk.DefRange.Ptr()
	content, diags := blk.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "create_before_destroy"}, {Name: "prevent_destroy"},
		{Name: "ignore_changes"}, {Name: "replace_triggered_by"},
	}})
	l.add(diags)
	// Lifecycle settings shape the plan before anything is evaluated, so
	// like Terraform they must be literal values.
	if a := content.Attributes["create_before_destroy"]; a != nil {
		r.Lifecycle.CreateBeforeDestroy = l.staticBool(a.Expr)
	}
	if a := content.Attributes["prevent_destroy"]; a != nil {
		r.Lifecycle.PreventDestroy = l.staticBool(a.Expr)
	}
	if a := content.Attributes["ignore_changes"]; a != nil {
		l.decodeIgnoreChanges(r, a)
	}
	if a := content.Attributes["replace_triggered_by"]; a != nil {
		r.Lifecycle.ReplaceTriggeredBy = l.decodeReferenceList(a, "replace_triggered_by",
			"replace_triggered_by may only refer to managed resources or their attributes.", true, RefResource)
	}
}

func (l *loader) decodeIgnoreChanges(r *Resource, a *hcl.Attribute) {
	if hcl.ExprAsKeyword(a.Expr) == "all" {
		r.Lifecycle.IgnoreAllChanges = true
		return
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		l.errorf(a.Expr.Range().Ptr(), "Invalid ignore_changes",
			"ignore_changes must be the keyword all or a list of attribute paths, like [tags, metadata[\"ssh-keys\"]].")
		return
	}
	for _, e := range exprs {
		t, diags := hcl.RelTraversalForExpr(e)
		if diags.HasErrors() {
			l.errorf(e.Range().Ptr(), "Invalid ignore_changes rule",
				"Each ignore_changes item must be an attribute path of the resource, like tags or labels[\"env\"], without quotes.")
			continue
		}
		r.Lifecycle.IgnoreChanges = append(r.Lifecycle.IgnoreChanges, t)
	}
}

func (l *loader) decodeDependsOn(a *hcl.Attribute) []Reference {
	return l.decodeReferenceList(a, "depends_on",
		"depends_on may only list whole resources and data sources, like [google_sql_database_instance.db], not their attributes.",
		false, RefResource, RefDataSource)
}

// decodeReferenceList decodes a static list of references of the given
// kinds. Attribute access after the object address is refused unless
// allowAttrs, since depends_on is about objects, not values.
func (l *loader) decodeReferenceList(a *hcl.Attribute, what, detail string, allowAttrs bool, kinds ...RefKind) []Reference {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		l.errorf(a.Expr.Range().Ptr(), "Invalid "+what, "%s must be a list of references. %s", what, detail)
		return nil
	}
	var refs []Reference
	for _, e := range exprs {
		ref, ok := l.staticReference(e)
		if !ok {
			continue
		}
		if !kindIn(ref.Kind, kinds) || (!allowAttrs && hasAttrStep(ref.Remaining)) {
			l.errorf(e.Range().Ptr(), "Invalid "+what+" reference", "%s", detail)
			continue
		}
		refs = append(refs, ref)
	}
	return refs
}

func (l *loader) staticReference(e hcl.Expression) (Reference, bool) {
	t, diags := hcl.AbsTraversalForExpr(e)
	if diags.HasErrors() {
		l.errorf(e.Range().Ptr(), "Invalid reference", "Expected a reference such as google_compute_instance.vm, not an expression.")
		return Reference{}, false
	}
	ref, diags := ParseReference(t)
	l.add(diags)
	return ref, !diags.HasErrors()
}

func kindIn(k RefKind, kinds []RefKind) bool {
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

func hasAttrStep(t hcl.Traversal) bool {
	for _, step := range t {
		if _, ok := step.(hcl.TraverseAttr); ok {
			return true
		}
	}
	return false
}

// decodeProviderRef decodes provider = google.west. The quoted form
// ("google.west") from Terraform 0.11 is still accepted, with a warning,
// because old files that Terraform itself accepts must load unchanged.
func (l *loader) decodeProviderRef(a *hcl.Attribute) *ProviderRef {
	t, diags := hcl.AbsTraversalForExpr(a.Expr)
	if diags.HasErrors() {
		t = l.quotedTraversal(a.Expr)
		if t == nil {
			l.errorf(a.Expr.Range().Ptr(), "Invalid provider reference",
				"The provider argument must be a provider configuration address like google or google.west.")
			return nil
		}
	}
	ref := &ProviderRef{Name: t.RootName(), Range: a.Expr.Range()}
	if len(t) > 2 {
		l.errorf(a.Expr.Range().Ptr(), "Invalid provider reference",
			"A provider address has at most two parts, name and alias (google.west).")
		return nil
	}
	if len(t) == 2 {
		step, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			l.errorf(a.Expr.Range().Ptr(), "Invalid provider reference", "The provider alias must follow a dot: google.west.")
			return nil
		}
		ref.Alias = step.Name
	}
	return ref
}

func (l *loader) quotedTraversal(expr hcl.Expression) hcl.Traversal {
	s, diags := staticString(expr)
	if diags.HasErrors() {
		return nil
	}
	start := expr.Range().Start
	start.Column++ // skip the opening quote
	start.Byte++
	t, diags := hclsyntax.ParseTraversalAbs([]byte(s), expr.Range().Filename, start)
	if diags.HasErrors() || len(t) == 0 {
		return nil
	}
	l.warnf(expr.Range().Ptr(), "Quoted references are deprecated",
		"Write the provider reference without quotes: provider = %s.", s)
	return t
}
