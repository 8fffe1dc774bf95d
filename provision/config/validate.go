package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// refScope describes where references appear, which decides what they may
// name.
type refScope struct {
	count    bool   // count.index is available
	each     bool   // each.key / each.value are available
	onlyVars bool   // only input variables (validation rules)
	self     string // address of the enclosing object, to catch self-references
}

// check runs the cross-block checks once every file is decoded, since a
// block may refer to one declared in a later file.
func (l *loader) check() {
	c := l.cfg
	for _, p := range sortedByDecl(c.Providers, func(p *Provider) hcl.Range { return p.DeclRange }) {
		l.checkRefs(p.References, refScope{})
	}
	for _, v := range sortedByDecl(c.Variables, func(v *Variable) hcl.Range { return v.DeclRange }) {
		for _, val := range v.Validations {
			l.checkRefs(val.References, refScope{onlyVars: true})
		}
	}
	for _, lc := range sortedByDecl(c.Locals, func(lc *Local) hcl.Range { return lc.DeclRange }) {
		l.checkRefs(lc.References, refScope{self: "local." + lc.Name})
	}
	for _, table := range []map[string]*Resource{c.Resources, c.DataSources} {
		for _, r := range sortedByDecl(table, func(r *Resource) hcl.Range { return r.DeclRange }) {
			l.checkResource(r)
		}
	}
	for _, o := range sortedByDecl(c.Outputs, func(o *Output) hcl.Range { return o.DeclRange }) {
		l.checkRefs(o.References, refScope{})
		l.checkRefs(o.DependsOn, refScope{})
	}
	for _, d := range sortedByDecl(c.Deploys, func(d *Deploy) hcl.Range { return d.DeclRange }) {
		l.checkRefs(d.References, refScope{})
	}
}

func (l *loader) checkResource(r *Resource) {
	scope := refScope{count: r.Count != nil, each: r.ForEach != nil, self: r.Addr()}
	l.checkRefs(r.References, scope)
	l.checkRefs(r.DependsOn, refScope{self: r.Addr()})
	l.checkRefs(r.Lifecycle.ReplaceTriggeredBy, refScope{self: r.Addr()})
	if p := r.Provider; p != nil && p.Alias != "" {
		if _, ok := l.cfg.Providers[p.Addr()]; !ok {
			l.errorf(p.Range.Ptr(), "Reference to undeclared provider configuration",
				"There is no provider %q block with alias = %q. Declare it or remove the provider argument.", p.Name, p.Alias)
		}
	}
}

func (l *loader) checkRefs(refs []Reference, s refScope) {
	for _, ref := range refs {
		if d := l.checkRef(ref, s); d != nil {
			l.diags = append(l.diags, d)
		}
	}
}

// checkRef returns the problem with one reference, if any. Messages follow
// Terraform's so that users can search for them.
func (l *loader) checkRef(ref Reference, s refScope) *hcl.Diagnostic {
	fail := func(summary, format string, args ...any) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: ref.Subject.Ptr()}
	}
	if s.onlyVars && ref.Kind != RefVariable {
		return fail("Invalid reference in variable validation",
			"A validation rule can refer only to input variables (var.NAME), not to %s.", ref.Addr)
	}
	if s.self != "" && ref.Addr == s.self {
		return fail("Self-referential block", "Configuration for %s may not refer to itself.", s.self)
	}
	switch ref.Kind {
	case RefVariable:
		if _, ok := l.cfg.Variables[ref.Name]; !ok {
			return fail("Reference to undeclared input variable",
				"An input variable with the name %q has not been declared. This variable can be declared with a variable %q {} block.", ref.Name, ref.Name)
		}
	case RefLocal:
		if _, ok := l.cfg.Locals[ref.Name]; !ok {
			return fail("Reference to undeclared local value", "A local value with the name %q has not been declared.", ref.Name)
		}
	case RefResource:
		if _, ok := l.cfg.Resources[ref.Addr]; !ok {
			return fail("Reference to undeclared resource", "A managed resource %q %q has not been declared.", ref.Type, ref.Name)
		}
	case RefDataSource:
		if _, ok := l.cfg.DataSources[ref.Addr]; !ok {
			return fail("Reference to undeclared resource", "A data resource %q %q has not been declared.", ref.Type, ref.Name)
		}
	case RefCount:
		if !s.count {
			return fail(`Reference to "count" in non-counted context`,
				`The "count" object can only be used in "resource" and "data" blocks, and only when the "count" argument is set.`)
		}
	case RefEach:
		if !s.each {
			return fail(`Reference to "each" in context without for_each`,
				`The "each" object can only be used in "resource" and "data" blocks, and only when the "for_each" argument is set.`)
		}
	case RefSelf:
		return fail(`Invalid "self" reference`,
			`The "self" object is not available here: Terraform allows it only in provisioner and connection blocks, which airctl does not support.`)
	}
	return nil
}

// sortedByDecl lists a map's values in source order, so diagnostics come
// out the same on every run.
func sortedByDecl[T any](m map[string]T, rng func(T) hcl.Range) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sortByRange(out, rng)
	return out
}
