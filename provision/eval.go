package provision

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/marks"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// decodeBody evaluates a block body against a schema; hcldec reports
// unknown arguments and type errors with their ranges.
func decodeBody(body hcl.Body, sch *provider.Schema, ctx *hcl.EvalContext) (cty.Value, error) {
	if sch == nil {
		sch = &provider.Schema{}
	}
	val, diags := hcldec.Decode(config.ExpandBody(body, ctx), sch.DecoderSpec(), ctx)
	if diags.HasErrors() {
		return cty.NilVal, DiagnosticsError(diags)
	}
	return val, nil
}

// markSensitive marks the schema's sensitive attributes so they are
// redacted wherever the value goes (plan output, state, outputs).
func markSensitive(sch *provider.Schema, v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	paths := sch.SensitivePaths(v)
	pvm := make([]cty.PathValueMarks, 0, len(paths))
	for _, p := range paths {
		pvm = append(pvm, cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(marks.Sensitive)})
	}
	return v.MarkWithPaths(pvm)
}

// valuesEqual compares two values that may carry marks; unknowns are
// never equal to anything (the change is shown as known after apply).
func valuesEqual(a, b cty.Value) bool {
	ua, _ := a.UnmarkDeep()
	ub, _ := b.UnmarkDeep()
	if !ua.IsWhollyKnown() || !ub.IsWhollyKnown() {
		return false
	}
	return ua.Equals(ub).True()
}

// instance is one expanded instance of a resource block with the
// evaluation context carrying its count.index / each.* values.
type instance struct {
	key state.IndexKey
	ctx *hcl.EvalContext
}

// expand evaluates count / for_each into instances. Unknown counts are an
// error at plan time, as in Terraform: the set of objects must be known.
func expand(r *config.Resource, ctx *hcl.EvalContext) ([]instance, error) {
	switch {
	case r.Count != nil:
		n, known, diags := config.EvalCount(r.Count, ctx)
		if err := unknownCollection(diags, known, r.Count.Range(), "count"); err != nil {
			return nil, err
		}
		out := make([]instance, n)
		for i := range n {
			out[i] = instance{key: state.IntKey(i), ctx: config.WithCount(ctx, cty.NumberIntVal(int64(i)))}
		}
		return out, nil
	case r.ForEach != nil:
		each, known, diags := config.EvalForEach(r.ForEach, ctx)
		if err := unknownCollection(diags, known, r.ForEach.Range(), "for_each"); err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(each))
		for k := range each {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]instance, 0, len(keys))
		for _, k := range keys {
			out = append(out, instance{key: state.StringKey(k), ctx: config.WithEach(ctx, cty.StringVal(k), each[k])})
		}
		return out, nil
	}
	return []instance{{key: state.NoKey(), ctx: ctx}}, nil
}

func unknownCollection(diags hcl.Diagnostics, known bool, rng hcl.Range, what string) error {
	if diags.HasErrors() {
		return DiagnosticsError(diags)
	}
	if known {
		return nil
	}
	return DiagnosticsError{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s argument", what),
		Detail:   fmt.Sprintf("The %s value depends on resource attributes that cannot be determined until apply, so airctl cannot predict how many instances will be created. Use -target to apply the resources it depends on first.", what),
		Subject:  rng.Ptr(),
	}}
}

// aggregate assembles the value expressions see for a resource: a single
// object, a tuple for count, an object keyed by each.key for for_each.
func aggregate(r *config.Resource, byKey map[state.IndexKey]cty.Value) cty.Value {
	switch {
	case r.Count != nil:
		vals := make([]cty.Value, len(byKey))
		for k, v := range byKey {
			i, _ := k.Int()
			vals[i] = v
		}
		return cty.TupleVal(vals)
	case r.ForEach != nil:
		attrs := make(map[string]cty.Value, len(byKey))
		for k, v := range byKey {
			s, _ := k.Str()
			attrs[s] = v
		}
		return cty.ObjectVal(attrs)
	}
	return byKey[state.NoKey()]
}

// idOf returns the id attribute of an object for progress lines.
func idOf(v cty.Value) string {
	v, _ = v.UnmarkDeep()
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute("id") {
		return ""
	}
	id := v.GetAttr("id")
	if id.IsNull() || !id.IsKnown() || id.Type() != cty.String {
		return ""
	}
	return id.AsString()
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
