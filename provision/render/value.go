package render

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/marks"
)

// Placeholders shown instead of values, as Terraform shows them.
const (
	knownAfterApply = "(known after apply)"
	sensitiveValue  = "(sensitive value)"
)

// split removes v's own marks (not those nested inside it, so each nested
// value is judged on its own) and reports whether v itself is sensitive.
// Collection operations panic on marked values, so every walk starts here.
func split(v cty.Value) (cty.Value, bool) {
	if v == cty.NilVal {
		return cty.NullVal(cty.DynamicPseudoType), false
	}
	plain, ms := v.Unmark()
	_, sensitive := ms[marks.Sensitive]
	return plain, sensitive
}

// plainEqual compares two values ignoring marks; unknowns are never equal,
// since only apply can tell what they become.
func plainEqual(a, b cty.Value) bool {
	if a == cty.NilVal || b == cty.NilVal {
		return a == b
	}
	ua, _ := a.UnmarkDeep()
	ub, _ := b.UnmarkDeep()
	if !ua.IsWhollyKnown() || !ub.IsWhollyKnown() {
		return false
	}
	if ua.IsNull() || ub.IsNull() {
		return ua.IsNull() && ub.IsNull()
	}
	return ua.Type().Equals(ub.Type()) && ua.Equals(ub).True()
}

// isNull treats the zero cty.Value (an absent output side) as null.
func isNull(v cty.Value) bool {
	return v == cty.NilVal || v.IsNull()
}

// primitive renders a known, unmarked primitive in HCL syntax.
func primitive(v cty.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case v.Type() == cty.String:
		return quote(v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	}
	return v.GoString() // not reached for schema types; better than nothing
}

// quote makes an HCL string literal, escaping template sequences too so
// the text reads back as exactly the value.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// keyText renders a map key (always quoted, as Terraform does) or an
// object attribute name (bare when it is a valid identifier).
func keyText(k string, isMap bool) string {
	if !isMap && hclsyntax.ValidIdentifier(k) {
		return k
	}
	return quote(k)
}

func isSequence(ty cty.Type) bool {
	return ty.IsListType() || ty.IsSetType() || ty.IsTupleType()
}

func isMapping(ty cty.Type) bool {
	return ty.IsMapType() || ty.IsObjectType()
}

// elements lists a known sequence's elements in order.
func elements(v cty.Value) []cty.Value {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	out := make([]cty.Value, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e)
	}
	return out
}

// entries lists a known map's or object's members by key.
func entries(v cty.Value) map[string]cty.Value {
	out := map[string]cty.Value{}
	if v.IsNull() || !v.IsKnown() {
		return out
	}
	if v.Type().IsObjectType() {
		for name := range v.Type().AttributeTypes() {
			out[name] = v.GetAttr(name)
		}
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		out[k.AsString()] = e
	}
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
