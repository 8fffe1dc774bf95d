package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// RefKind is what a reference points at.
type RefKind int

const (
	RefVariable   RefKind = iota + 1 // var.NAME
	RefLocal                         // local.NAME
	RefResource                      // TYPE.NAME
	RefDataSource                    // data.TYPE.NAME
	RefCount                         // count.index
	RefEach                          // each.key, each.value
	RefSelf                          // self
	RefPath                          // path.module, path.root, path.cwd
	RefTerraform                     // terraform.workspace
)

func (k RefKind) String() string {
	switch k {
	case RefVariable:
		return "variable"
	case RefLocal:
		return "local"
	case RefResource:
		return "resource"
	case RefDataSource:
		return "data"
	case RefCount:
		return "count"
	case RefEach:
		return "each"
	case RefSelf:
		return "self"
	case RefPath:
		return "path"
	case RefTerraform:
		return "terraform"
	}
	return fmt.Sprintf("RefKind(%d)", int(k))
}

// Reference is one traversal in an expression, resolved to the object it
// names.
type Reference struct {
	Kind RefKind
	// Addr names the referenced object: "var.x", "local.x",
	// "google_compute_instance.vm", "data.google_compute_image.debian",
	// "count.index", "each.key", "path.module", "terraform.workspace",
	// "self". For var, local, resource and data it is the graph node.
	Addr string
	// Type and Name are set for resources and data sources; Name alone for
	// variables and locals.
	Type string
	Name string
	// Subject covers the part of the traversal that names the object.
	Subject hcl.Range
	// Remaining is the rest of the traversal after the object's address, e.g.
	// [0].network_interface[0] in google_compute_instance.vm[0].network_interface[0].
	Remaining hcl.Traversal
	// Traversal is the whole traversal as written.
	Traversal hcl.Traversal
}

// IsNode reports whether the reference names a graph node (variable, local,
// resource or data source) rather than a per-instance or ambient value.
func (r Reference) IsNode() bool {
	switch r.Kind {
	case RefVariable, RefLocal, RefResource, RefDataSource:
		return true
	}
	return false
}

// References resolves every traversal in expr. Errors (module.*, var
// without a name, each.foo ...) come back as diagnostics; the references that
// did resolve are still returned.
func References(expr hcl.Expression) ([]Reference, hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	w := &refWalker{}
	w.expr(expr, nil)
	return w.result()
}

// BodyReferences resolves every reference in a body, including nested and
// dynamic blocks (the iterator of a dynamic block is not a reference).
// Meta-arguments are not special here: for a Resource use its References.
func BodyReferences(body hcl.Body) ([]Reference, hcl.Diagnostics) {
	w := &refWalker{}
	w.anyBody(body, nil, nil)
	return w.result()
}

// ParseReference resolves one absolute traversal.
func ParseReference(t hcl.Traversal) (Reference, hcl.Diagnostics) {
	if len(t) == 0 {
		return Reference{}, refError(hcl.Range{}, "Invalid reference", "A reference must not be empty.")
	}
	root, ok := t[0].(hcl.TraverseRoot)
	if !ok {
		return Reference{}, refError(t.SourceRange(), "Invalid reference", "A reference must start with a name.")
	}
	switch root.Name {
	case "var":
		return namedRef(t, RefVariable, "var", "an input variable")
	case "local":
		return namedRef(t, RefLocal, "local", "a local value")
	case "data":
		return dataRef(t)
	case "count":
		return countRef(t)
	case "each":
		return eachRef(t)
	case "self":
		return Reference{Kind: RefSelf, Addr: "self", Subject: root.SrcRange, Remaining: t[1:], Traversal: t}, nil
	case "path":
		return choiceRef(t, RefPath, "path", "module", "root", "cwd")
	case "terraform":
		return choiceRef(t, RefTerraform, "terraform", "workspace")
	case "module":
		return Reference{}, refError(t.SourceRange(), "Modules are not supported",
			"airctl configurations are a single root module: module calls and module.* references are not supported.")
	}
	return resourceRef(t)
}

// reservedRootName reports whether name starts a non-resource reference,
// so no resource type may use it.
func reservedRootName(name string) bool {
	switch name {
	case "var", "local", "data", "count", "each", "self", "path", "terraform", "module":
		return true
	}
	return false
}

// attrStep returns the name of the attribute step at t[i] and its range, or
// false when t has no such step. As in Terraform, an index step (var["x"])
// does not name an object.
func attrStep(t hcl.Traversal, i int) (string, hcl.Range, bool) {
	if i >= len(t) {
		return "", hcl.Range{}, false
	}
	switch s := t[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, s.SrcRange, true
	}
	return "", hcl.Range{}, false
}

func namedRef(t hcl.Traversal, kind RefKind, prefix, what string) (Reference, hcl.Diagnostics) {
	name, rng, ok := attrStep(t, 1)
	if !ok {
		return Reference{}, refError(t.SourceRange(), "Invalid reference",
			fmt.Sprintf("The %q object cannot be accessed directly. Instead, access one of its attributes: %s.NAME names %s.", prefix, prefix, what))
	}
	return Reference{
		Kind: kind, Addr: prefix + "." + name, Name: name,
		Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[2:], Traversal: t,
	}, nil
}

func resourceRef(t hcl.Traversal) (Reference, hcl.Diagnostics) {
	typ := t.RootName()
	name, rng, ok := attrStep(t, 1)
	if !ok {
		return Reference{}, refError(t.SourceRange(), "Invalid reference",
			fmt.Sprintf("A reference to a resource type must be followed by at least one attribute access, specifying the resource name (%s.NAME).", typ))
	}
	return Reference{
		Kind: RefResource, Addr: typ + "." + name, Type: typ, Name: name,
		Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[2:], Traversal: t,
	}, nil
}

func dataRef(t hcl.Traversal) (Reference, hcl.Diagnostics) {
	typ, _, ok1 := attrStep(t, 1)
	name, rng, ok2 := attrStep(t, 2)
	if !ok1 || !ok2 {
		return Reference{}, refError(t.SourceRange(), "Invalid reference",
			"A reference to a data source must be followed by the data source type and name: data.TYPE.NAME.")
	}
	return Reference{
		Kind: RefDataSource, Addr: "data." + typ + "." + name, Type: typ, Name: name,
		Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[3:], Traversal: t,
	}, nil
}

func countRef(t hcl.Traversal) (Reference, hcl.Diagnostics) {
	name, rng, ok := attrStep(t, 1)
	if !ok || name != "index" {
		return Reference{}, refError(t.SourceRange(), "Invalid \"count\" attribute",
			"The \"count\" object has only the attribute count.index, the index of the current instance.")
	}
	return Reference{Kind: RefCount, Addr: "count.index", Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[2:], Traversal: t}, nil
}

func eachRef(t hcl.Traversal) (Reference, hcl.Diagnostics) {
	name, rng, ok := attrStep(t, 1)
	if !ok || (name != "key" && name != "value") {
		return Reference{}, refError(t.SourceRange(), "Invalid \"each\" attribute",
			"The \"each\" object has only the attributes each.key and each.value, the key and value of the current for_each element.")
	}
	return Reference{Kind: RefEach, Addr: "each." + name, Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[2:], Traversal: t}, nil
}

func choiceRef(t hcl.Traversal, kind RefKind, prefix string, allowed ...string) (Reference, hcl.Diagnostics) {
	name, rng, ok := attrStep(t, 1)
	for _, a := range allowed {
		if ok && name == a {
			return Reference{Kind: kind, Addr: prefix + "." + name, Name: name, Subject: hcl.RangeBetween(t[0].SourceRange(), rng), Remaining: t[2:], Traversal: t}, nil
		}
	}
	return Reference{}, refError(t.SourceRange(), fmt.Sprintf("Invalid %q attribute", prefix),
		fmt.Sprintf("The %q object has only the attributes %s.", prefix, joinAttrs(prefix, allowed)))
}

func joinAttrs(prefix string, names []string) string {
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += " and "
		default:
			s += ", "
		}
		s += prefix + "." + n
	}
	return s
}

func refError(rng hcl.Range, summary, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}}
}

// refWalker collects references and function calls from expressions and
// bodies. It walks hclsyntax bodies directly rather than decoding them with a
// schema, because resource schemas belong to providers the loader does not
// know; the price is that only native-syntax bodies are walked fully.
type refWalker struct {
	refs  []Reference
	calls []*hclsyntax.FunctionCallExpr
	diags hcl.Diagnostics
}

// expr records the references in e, skipping traversals rooted at a dynamic
// block iterator in scope.
func (w *refWalker) expr(e hcl.Expression, iterators map[string]bool) {
	if e == nil {
		return
	}
	for _, t := range e.Variables() {
		if iterators[t.RootName()] {
			continue
		}
		ref, diags := ParseReference(t)
		w.diags = append(w.diags, diags...)
		if !diags.HasErrors() {
			w.refs = append(w.refs, ref)
		}
	}
	if node, ok := e.(hclsyntax.Node); ok {
		w.collectCalls(node)
	}
}

func (w *refWalker) collectCalls(node hclsyntax.Node) {
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			w.calls = append(w.calls, call)
		}
		return nil
	})
}

// anyBody walks a body of unknown implementation. Non-native bodies (JSON)
// cannot be walked without a schema, so only their attributes are seen.
func (w *refWalker) anyBody(body hcl.Body, iterators map[string]bool, skip *skipSet) {
	if body == nil {
		return
	}
	if sb, ok := body.(*hclsyntax.Body); ok {
		w.body(sb, iterators, skip)
		return
	}
	attrs, _ := body.JustAttributes()
	for _, a := range attrs {
		w.expr(a.Expr, iterators)
	}
}

// skipSet names the attributes and blocks of a body that are not walked
// (meta-arguments handled separately).
type skipSet struct {
	attrs  map[string]bool
	blocks map[string]bool
}

func (w *refWalker) body(b *hclsyntax.Body, iterators map[string]bool, skip *skipSet) {
	for name, a := range b.Attributes {
		if skip != nil && skip.attrs[name] {
			continue
		}
		w.expr(a.Expr, iterators)
	}
	for _, blk := range b.Blocks {
		if skip != nil && skip.blocks[blk.Type] {
			continue
		}
		if blk.Type == "dynamic" && len(blk.Labels) == 1 {
			w.dynamicBlock(blk, iterators)
			continue
		}
		w.body(blk.Body, iterators, nil)
	}
}

// dynamicBlock walks a dynamic block: for_each is evaluated outside the
// iteration, labels and content inside it, where the iterator name (the
// block label, or the iterator argument) is a local symbol, not a reference.
func (w *refWalker) dynamicBlock(blk *hclsyntax.Block, iterators map[string]bool) {
	iter := blk.Labels[0]
	if a, ok := blk.Body.Attributes["iterator"]; ok {
		if kw := hcl.ExprAsKeyword(a.Expr); kw != "" {
			iter = kw
		}
	}
	inner := make(map[string]bool, len(iterators)+1)
	for k := range iterators {
		inner[k] = true
	}
	inner[iter] = true
	if a, ok := blk.Body.Attributes["for_each"]; ok {
		w.expr(a.Expr, iterators)
	}
	if a, ok := blk.Body.Attributes["labels"]; ok {
		w.expr(a.Expr, inner)
	}
	for _, c := range blk.Body.Blocks {
		if c.Type == "content" {
			w.body(c.Body, inner, nil)
		}
	}
}

// result returns references ordered by position so that callers (and their
// error messages) are deterministic despite map iteration in bodies.
func (w *refWalker) result() ([]Reference, hcl.Diagnostics) {
	sortRefs(w.refs)
	return w.refs, w.diags
}

func sortRefs(refs []Reference) {
	sort.SliceStable(refs, func(i, j int) bool {
		return rangeLess(refs[i].Subject, refs[j].Subject)
	})
}

func rangeLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}
