package dag

import (
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// staticAttrs decodes settings that are fixed at load (every DAG-level
// attribute and the non-expression task attributes). They see the stdlib
// functions but no variables, so a reference to run.* there is an error
// from HCL itself. Decoders only overwrite dst when the attribute is set
// and valid: callers pre-fill defaults.
type staticAttrs struct {
	attrs hcl.Attributes
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (s *staticAttrs) errorf(rng hcl.Range, summary, format string, args ...any) {
	s.diags = append(s.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	})
}

// value evaluates attribute name and converts it to ty. ok is false when
// the attribute is absent, null (null means "use the default") or invalid.
func (s *staticAttrs) value(name string, ty cty.Type) (v cty.Value, rng hcl.Range, ok bool) {
	attr, exists := s.attrs[name]
	if !exists {
		return cty.NilVal, hcl.Range{}, false
	}
	rng = attr.Expr.Range()
	v, diags := attr.Expr.Value(s.ctx)
	s.diags = append(s.diags, diags...)
	if diags.HasErrors() || v.IsNull() {
		return cty.NilVal, rng, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		s.errorf(rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, err)
		return cty.NilVal, rng, false
	}
	if !v.IsWhollyKnown() {
		s.errorf(rng, "Invalid attribute value", "The value of %q must be known when the DAG file is loaded.", name)
		return cty.NilVal, rng, false
	}
	return v, rng, true
}

// str decodes a string attribute.
func (s *staticAttrs) str(name string, dst *string) (hcl.Range, bool) {
	v, rng, ok := s.value(name, cty.String)
	if ok {
		*dst = v.AsString()
	}
	return rng, ok
}

// nonEmptyStr decodes a string attribute that must not be empty.
func (s *staticAttrs) nonEmptyStr(name string, dst *string) {
	var v string
	rng, ok := s.str(name, &v)
	if ok && v == "" {
		s.errorf(rng, "Invalid attribute value", "%q must not be empty.", name)
		return
	}
	if ok {
		*dst = v
	}
}

// boolean decodes a bool attribute.
func (s *staticAttrs) boolean(name string, dst *bool) {
	if v, _, ok := s.value(name, cty.Bool); ok {
		*dst = v.True()
	}
}

// integer decodes a whole number of at least minimum. The upper bound keeps
// values within an int on every platform and out of absurd territory.
func (s *staticAttrs) integer(name string, minimum int, dst *int) {
	v, rng, ok := s.value(name, cty.Number)
	if !ok {
		return
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	switch {
	case !bf.IsInt():
		s.errorf(rng, "Invalid attribute value", "%q must be a whole number, not %s.", name, bf.Text('g', -1))
	case i < int64(minimum) && minimum == 0:
		s.errorf(rng, "Invalid attribute value", "%q must not be negative, got %d.", name, i)
	case i < int64(minimum):
		s.errorf(rng, "Invalid attribute value", "%q must be at least %d, got %d.", name, minimum, i)
	case acc != big.Exact || i > math.MaxInt32:
		s.errorf(rng, "Invalid attribute value", "%q is too large.", name)
	default:
		*dst = int(i)
	}
}

// duration decodes a non-negative Go duration string such as "1h30m".
func (s *staticAttrs) duration(name string, dst *time.Duration) {
	var text string
	rng, ok := s.str(name, &text)
	if !ok {
		return
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		s.errorf(rng, "Invalid duration", "%q must be a duration such as \"30s\", \"5m\" or \"1h30m\": %s.", name, err)
	case d < 0:
		s.errorf(rng, "Invalid duration", "%q must not be negative, got %s.", name, text)
	default:
		*dst = d
	}
}

// stringList decodes a list of strings.
func (s *staticAttrs) stringList(name string, dst *[]string) {
	v, rng, ok := s.value(name, cty.List(cty.String))
	if !ok {
		return
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			s.errorf(rng, "Invalid attribute value", "%q must not contain null.", name)
			return
		}
		out = append(out, e.AsString())
	}
	*dst = out
}

// object decodes an object or map attribute into its elements.
func (s *staticAttrs) object(name string, dst *map[string]cty.Value) {
	v, rng, ok := s.value(name, cty.DynamicPseudoType)
	if !ok {
		return
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		s.errorf(rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: an object is required, such as { table = \"events\" }.", name)
		return
	}
	*dst = v.AsValueMap()
	if *dst == nil {
		*dst = map[string]cty.Value{}
	}
}
