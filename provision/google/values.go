package google

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// Small conversions between cty values and API fields, so that each
// resource file reads as a mapping of fields.

// blocks builds the list value of parent's block name from objects given
// as attribute maps (missing attributes null, nested blocks empty).
func blocks(parent *provider.Schema, name string, objs ...map[string]cty.Value) cty.Value {
	nb := parent.Blocks[name]
	if len(objs) == 0 {
		return cty.ListValEmpty(nb.Block.ImpliedType())
	}
	vals := make([]cty.Value, len(objs))
	for i, o := range objs {
		vals[i] = provider.ObjectWith(&nb.Block, o)
	}
	return cty.ListVal(vals)
}

// elems are the elements of the list or set at path; nil when null,
// unknown or empty.
func elems(v cty.Value, path ...string) []cty.Value {
	a, _ := provider.GetAttr(v, path...).UnmarkDeep()
	if a.IsNull() || !a.IsKnown() || !(a.Type().IsListType() || a.Type().IsSetType() || a.Type().IsTupleType()) || a.LengthInt() == 0 {
		return nil
	}
	return a.AsValueSlice()
}

// strs reads a list or set of strings at path, skipping null elements.
func strs(v cty.Value, path ...string) []string {
	var out []string
	for _, e := range elems(v, path...) {
		if e.IsKnown() && !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	return out
}

// strList is a list(string) value, empty (not null) for no strings.
func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// strSet is a set(string) value.
func strSet(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.SetValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.SetVal(vals)
}

// optStr is a string value, null for "" (the API's "unset").
func optStr(s string) cty.Value {
	if s == "" {
		return cty.NullVal(cty.String)
	}
	return cty.StringVal(s)
}

// optInt is a number value, null for 0 (the API's "unset").
func optInt(n int64) cty.Value {
	if n == 0 {
		return cty.NullVal(cty.Number)
	}
	return cty.NumberIntVal(n)
}

// intOr reads an integer at path, def when unset.
func intOr(v cty.Value, def int64, path ...string) int64 {
	if n, ok := provider.Int(v, path...); ok {
		return n
	}
	return def
}

// labelsVal is the state value for API labels: null when the API has
// none and the prior state had none, so an unset argument stays unset.
func labelsVal(prior cty.Value, attr string, m map[string]string) cty.Value {
	if len(m) == 0 && provider.GetAttr(prior, attr).IsNull() {
		return cty.NullVal(cty.Map(cty.String))
	}
	if m == nil {
		m = map[string]string{}
	}
	return provider.StringMapVal(m)
}

// lastSegment is the name at the end of a resource URL or path.
func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

// relPath cuts a resource URL down to its "projects/…" path, so that
// https://www.googleapis.com/compute/v1/projects/p/… and projects/p/… (and
// a URL on a fake's host) compare equal.
func relPath(s string) string {
	if i := strings.Index(s, "projects/"); i >= 0 {
		return s[i:]
	}
	return s
}

// sameRef reports whether a configured reference (a URL, a projects/…
// path or a bare name) names the same resource as the API's URL.
func sameRef(configured, api string) bool {
	if configured == "" || api == "" {
		return configured == api
	}
	if !strings.Contains(configured, "/") {
		return configured == lastSegment(api)
	}
	return strings.HasSuffix(relPath(api), relPath(configured)) || strings.HasSuffix(relPath(configured), relPath(api))
}

// keepRef is the state value of a reference read from the API: the prior
// value when it names the same resource, so that the configuration's form
// (a name, an id, a self_link) does not show as a change; otherwise the
// API's value, which is drift.
func keepRef(prior cty.Value, api string) cty.Value {
	if !prior.IsNull() && prior.IsKnown() && prior.Type() == cty.String && sameRef(prior.AsString(), api) {
		return prior
	}
	return optStr(api)
}

// keepRefs is keepRef for lists of references, order kept from the API.
func keepRefs(prior []string, api []string) []string {
	out := make([]string, len(api))
	for i, a := range api {
		out[i] = a
		for _, p := range prior {
			if sameRef(p, a) {
				out[i] = p
				break
			}
		}
	}
	return out
}

// setPath returns v with the value at path (attribute names and list
// indexes, as in provider.GetAttr) replaced by nv. A path that does not
// exist leaves v unchanged.
func setPath(v cty.Value, path []string, nv cty.Value) cty.Value {
	if len(path) == 0 {
		return nv
	}
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		if !ty.HasAttribute(path[0]) {
			return v
		}
		m := v.AsValueMap()
		m[path[0]] = setPath(m[path[0]], path[1:], nv)
		return cty.ObjectVal(m)
	case ty.IsListType():
		es := v.AsValueSlice()
		for i := range es {
			if fmt.Sprint(i) == path[0] {
				es[i] = setPath(es[i], path[1:], nv)
			}
		}
		if len(es) == 0 {
			return v
		}
		return cty.ListVal(es)
	}
	return v
}

// sameForm plans the prior value at each path where the planned one names
// the same thing in another form (see sameRef): Terraform's
// DiffSuppressFunc for references, so that writing a name where the API
// returns a URL (common after an import) does not replace the object.
// Each path may contain "*" to mean every list index.
func sameForm(plan *provider.PlanResponse, prior cty.Value, paths ...string) {
	if prior.IsNull() {
		return
	}
	for _, p := range paths {
		for _, path := range expandStars(plan.Planned, strings.Split(p, ".")) {
			pv, nv := provider.GetAttr(prior, path...), provider.GetAttr(plan.Planned, path...)
			if pv.IsNull() || !pv.IsKnown() || nv.IsNull() || !nv.IsKnown() || pv.RawEquals(nv) || !pv.Type().Equals(nv.Type()) {
				continue
			}
			if sameValueForm(pv, nv) {
				plan.Planned = setPath(plan.Planned, path, pv)
			}
		}
	}
}

// sameValueForm compares strings by reference and collections of strings
// element by element (in any order).
func sameValueForm(a, b cty.Value) bool {
	if a.Type() == cty.String {
		return sameRef(a.AsString(), b.AsString()) || sameRef(b.AsString(), a.AsString())
	}
	if !(a.Type().IsListType() || a.Type().IsSetType()) || a.LengthInt() != b.LengthInt() || !b.IsWhollyKnown() {
		return false
	}
	as, bs := a.AsValueSlice(), b.AsValueSlice()
	used := make([]bool, len(bs))
outer:
	for _, x := range as {
		for j, y := range bs {
			if !used[j] && x.Type() == cty.String && !y.IsNull() && !x.IsNull() && (sameRef(x.AsString(), y.AsString()) || expandScope(x.AsString()) == expandScope(y.AsString())) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// expandStars turns "*" steps into each index of the list found there.
func expandStars(v cty.Value, path []string) [][]string {
	for i, step := range path {
		if step != "*" {
			continue
		}
		var out [][]string
		for j := range elems(v, path[:i]...) {
			p := append(append(append([]string{}, path[:i]...), fmt.Sprint(j)), path[i+1:]...)
			out = append(out, expandStars(v, p)...)
		}
		return out
	}
	return [][]string{path}
}
