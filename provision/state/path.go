package state

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Attribute paths (Instance.SensitiveAttributes) are stored in HCL traversal
// syntax relative to the instance: "password", "settings[0].tier",
// `labels["team"]`. That is readable in the state file and in `state show`,
// unlike Terraform's nested step objects, and converts losslessly to and from
// cty.Path. The empty string is the whole attributes object.

// ParsePath parses an attribute path.
func ParsePath(s string) (cty.Path, error) {
	if s == "" {
		return cty.Path{}, nil
	}
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("invalid attribute path %q: %s", s, diags.Error())
	}
	p := cty.GetAttrPath(trav.RootName())
	for _, step := range trav[1:] {
		switch st := step.(type) {
		case hcl.TraverseAttr:
			p = p.GetAttr(st.Name)
		case hcl.TraverseIndex:
			p = p.Index(st.Key)
		default:
			return nil, fmt.Errorf("invalid attribute path %q: unsupported step %T", s, step)
		}
	}
	return p, nil
}

// FormatPath formats p for SensitiveAttributes. A step that has no text form
// (an index into a set, which is keyed by the element's whole value) ends the
// path there: marking the whole set sensitive is the safe approximation.
func FormatPath(p cty.Path) string {
	var b strings.Builder
	for i, step := range p {
		switch st := step.(type) {
		case cty.GetAttrStep:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(st.Name)
		case cty.IndexStep:
			k, ok := indexText(st.Key)
			if !ok || i == 0 {
				return b.String()
			}
			b.WriteString(k)
		}
	}
	return b.String()
}

func indexText(k cty.Value) (string, bool) {
	if k.IsNull() || !k.IsKnown() {
		return "", false
	}
	switch k.Type() {
	case cty.String:
		return "[" + quoteHCL(k.AsString()) + "]", true
	case cty.Number:
		if i, acc := k.AsBigFloat().Int64(); acc == big.Exact {
			return fmt.Sprintf("[%d]", i), true
		}
	}
	return "", false
}
