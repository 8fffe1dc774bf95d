package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/zclconf/go-cty/cty"
)

// Redacted is what `state show` and `output` print instead of a secret.
const Redacted = "(sensitive value)"

// Redacted returns a copy of s in which every sensitive attribute path and
// every sensitive output holds the string "(sensitive value)". The copy is
// for display only: writing it to a backend would destroy the secrets.
func (s *State) Redacted() (*State, error) {
	c := s.DeepCopy()
	for _, r := range c.Resources {
		for _, in := range r.Instances {
			attrs, err := RedactJSON(in.Attributes, in.SensitiveAttributes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Addr().Instance(in.IndexKey), err)
			}
			in.Attributes = attrs
		}
	}
	for name, o := range c.Outputs {
		if o.Sensitive {
			o.Value = json.RawMessage(strconv.Quote(Redacted))
			c.Outputs[name] = o
		}
	}
	return c, nil
}

// RedactJSON replaces the values at paths inside the JSON document raw.
// Paths that do not exist (a null block, say) are skipped.
func RedactJSON(raw json.RawMessage, paths []string) (json.RawMessage, error) {
	if len(paths) == 0 {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	for _, s := range paths {
		p, err := ParsePath(s)
		if err != nil {
			return nil, err
		}
		doc = redactAt(doc, p)
	}
	out, err := json.Marshal(doc)
	return out, err
}

// redactAt returns node with the value at p replaced by Redacted.
func redactAt(node any, p cty.Path) any {
	if len(p) == 0 {
		return Redacted
	}
	switch n := node.(type) {
	case map[string]any:
		key, ok := stepKey(p[0])
		if _, exists := n[key]; ok && exists {
			n[key] = redactAt(n[key], p[1:])
		}
	case []any:
		i, ok := stepIndex(p[0])
		if ok && i >= 0 && i < len(n) {
			n[i] = redactAt(n[i], p[1:])
		}
	}
	return node
}

func stepKey(step cty.PathStep) (string, bool) {
	switch st := step.(type) {
	case cty.GetAttrStep:
		return st.Name, true
	case cty.IndexStep:
		if st.Key.Type() == cty.String && st.Key.IsKnown() && !st.Key.IsNull() {
			return st.Key.AsString(), true
		}
	}
	return "", false
}

func stepIndex(step cty.PathStep) (int, bool) {
	st, ok := step.(cty.IndexStep)
	if !ok || st.Key.Type() != cty.Number || !st.Key.IsKnown() || st.Key.IsNull() {
		return 0, false
	}
	i, acc := st.Key.AsBigFloat().Int64()
	return int(i), acc == big.Exact
}
