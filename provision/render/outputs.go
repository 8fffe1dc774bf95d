package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/state"
)

// SensitiveOutput is what `airctl output` and the end of an apply show for
// a sensitive output, as Terraform does.
const SensitiveOutput = "<sensitive>"

// Outputs writes "name = value" for every output in name order; sensitive
// ones show as <sensitive>.
func Outputs(w io.Writer, outs map[string]state.Output) error {
	for _, name := range sortedKeys(outs) {
		o := outs[name]
		text := SensitiveOutput
		if !o.Sensitive {
			v, err := o.CtyValue()
			if err != nil {
				return fmt.Errorf("output %s: %w", name, err)
			}
			text = Value(v)
		}
		if _, err := fmt.Fprintf(w, "%s = %s\n", name, text); err != nil {
			return err
		}
	}
	return nil
}

// Value renders a value in HCL syntax, collections over several lines
// indented by two spaces. Marks are ignored: callers decide what to hide.
func Value(v cty.Value) string {
	v, _ = v.UnmarkDeep()
	return strings.Join(valueHCL(v, ""), "\n")
}

func valueHCL(v cty.Value, indent string) []string {
	switch {
	case !v.IsKnown():
		return []string{knownAfterApply}
	case v.IsNull():
		return []string{"null"}
	case isSequence(v.Type()):
		elems := elements(v)
		if len(elems) == 0 {
			return []string{"[]"}
		}
		out := []string{"["}
		for _, e := range elems {
			out = append(out, attach(indent+"  ", appendLast(valueHCL(e, indent+"  "), ","))...)
		}
		return append(out, indent+"]")
	case isMapping(v.Type()):
		members := entries(v)
		if len(members) == 0 {
			return []string{"{}"}
		}
		keys := sortedKeys(members)
		width := 0
		for _, k := range keys {
			width = max(width, len(keyText(k, v.Type().IsMapType())))
		}
		out := []string{"{"}
		for _, k := range keys {
			kt := keyText(k, v.Type().IsMapType())
			head := indent + "  " + kt + strings.Repeat(" ", width-len(kt)) + " = "
			out = append(out, attach(head, valueHCL(members[k], indent+"  "))...)
		}
		return append(out, indent+"}")
	}
	return []string{primitive(v)}
}
