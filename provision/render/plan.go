package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/marks"
	"github.com/airctl/airctl/provision/state"
)

// Plan writes p as Terraform does: changes made outside airctl (drift),
// the legend of the symbols used, one block per change, the output
// changes, and the summary line.
func Plan(w io.Writer, p *provision.Plan, opts Options) error {
	var lines []string
	if len(p.Drift) > 0 {
		lines = append(lines, opts.drift(p.Drift)...)
	}
	if len(p.Adopted) > 0 {
		lines = append(lines, opts.adopted(p.Adopted)...)
	}
	changes := resourceChanges(p)
	outputs := opts.outputChanges(p.Outputs)
	switch {
	case len(changes) == 0 && len(outputs) == 0 && len(p.Adopted) > 0:
		lines = append(lines, opts.bold("No changes to the objects.")+" Applying this plan records the adopted objects in the airctl state.")
	case len(changes) == 0 && len(outputs) == 0:
		lines = append(lines, opts.noChanges(p)...)
	case len(changes) == 0:
		lines = append(lines, opts.bold("Changes to Outputs:"))
		lines = append(lines, outputs...)
		lines = append(lines, "", "You can apply this plan to save these new output values to the airctl state, without changing any real infrastructure.")
	default:
		lines = append(lines, opts.legend(changes)...)
		lines = append(lines, "airctl will perform the following actions:", "")
		for _, c := range changes {
			lines = append(lines, opts.change(c, false)...)
			lines = append(lines, "")
		}
		if len(outputs) > 0 {
			lines = append(lines, opts.bold("Changes to Outputs:"))
			lines = append(lines, outputs...)
			lines = append(lines, "")
		}
		add, change, destroy := p.Summary()
		lines = append(lines, opts.bold("Plan:")+fmt.Sprintf(" %d to add, %d to change, %d to destroy.", add, change, destroy))
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

// resourceChanges are the changes worth showing: everything but no-ops.
func resourceChanges(p *provision.Plan) []*provision.Change {
	var out []*provision.Change
	for _, c := range p.Changes {
		if c.Action != provision.NoOp {
			out = append(out, c)
		}
	}
	return out
}

func (o Options) noChanges(p *provision.Plan) []string {
	if p.Destroy {
		return []string{
			o.bold("No changes.") + " No objects need to be destroyed.", "",
			"Either you have not created any objects yet or the existing objects were already deleted outside of airctl.",
		}
	}
	return []string{
		o.bold("No changes.") + " Your infrastructure matches the configuration.", "",
		"airctl has compared your real infrastructure against your configuration and found no differences, so no changes are needed.",
	}
}

// legend lists the symbols the plan uses, in Terraform's order.
func (o Options) legend(changes []*provision.Change) []string {
	used := map[provision.Action]bool{}
	for _, c := range changes {
		used[c.Action] = true
	}
	lines := []string{"Resource actions are indicated with the following symbols:"}
	for _, a := range []provision.Action{provision.Create, provision.Update, provision.Delete, provision.DeleteThenCreate, provision.CreateThenDelete, provision.Read} {
		if used[a] {
			sym := actionSymbol(a)
			lines = append(lines, strings.Repeat(" ", 3-len(sym))+o.symbol(sym)+" "+actionLegend(a))
		}
	}
	return append(lines, "")
}

func actionLegend(a provision.Action) string {
	switch a {
	case provision.Create:
		return "create"
	case provision.Update:
		return "update in-place"
	case provision.Delete:
		return "destroy"
	case provision.DeleteThenCreate:
		return "destroy and then create replacement"
	case provision.CreateThenDelete:
		return "create replacement and then destroy"
	case provision.Read:
		return "read (data resources)"
	}
	return string(a)
}

func actionSymbol(a provision.Action) string {
	switch a {
	case provision.Create:
		return "+"
	case provision.Update:
		return "~"
	case provision.Delete:
		return "-"
	case provision.DeleteThenCreate:
		return "-/+"
	case provision.CreateThenDelete:
		return "+/-"
	case provision.Read:
		return "<="
	}
	return " "
}

// change renders one planned change (or, with drift, one change found by
// refresh) as a commented resource block.
func (o Options) change(c *provision.Change, drift bool) []string {
	lines := []string{o.bold("  # "+c.Addr.String()) + " " + headline(c, drift)}
	if r := reasonLine(c, drift); r != "" {
		lines = append(lines, "  # "+r)
	}
	kind := "resource"
	if c.Addr.Mode == state.Data {
		kind = "data"
	}
	lines = append(lines, o.symLine(0, actionSymbol(c.Action), fmt.Sprintf("%s %q %q {", kind, c.Addr.Type, c.Addr.Name)))
	mode := showAll
	if c.Action == provision.Update || c.Action.IsReplace() {
		mode = hideUnchanged
	}
	b := body{o: o, replace: c.ReplacePaths}
	lines = append(lines, b.render(c.Schema, orNullOf(c.Before, c.After), orNullOf(c.After, c.Before), 1, cty.Path{}, mode)...)
	return append(lines, plainLine(0, "}"))
}

// orNullOf replaces a missing side with a null of the other side's type.
func orNullOf(v, other cty.Value) cty.Value {
	if v != cty.NilVal {
		return v
	}
	if other == cty.NilVal {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	plain, _ := other.UnmarkDeep()
	return cty.NullVal(plain.Type())
}

func headline(c *provision.Change, drift bool) string {
	if drift {
		if c.Action == provision.Delete {
			return "has been deleted"
		}
		return "has changed"
	}
	switch c.Action {
	case provision.Create:
		return "will be created"
	case provision.Read:
		return "will be read during apply"
	case provision.Update:
		return "will be updated in-place"
	case provision.Delete:
		return "will be destroyed"
	}
	return "must be replaced"
}

// reasonLine explains a replacement or deletion that no attribute caused.
func reasonLine(c *provision.Change, drift bool) string {
	switch {
	case drift:
		return ""
	case c.Action == provision.Read:
		return "(config refers to values not yet known)"
	case c.Reason == "" || c.Reason == "destroy":
		return ""
	case strings.HasPrefix(c.Reason, "requested"):
		return "(" + c.Reason + ")"
	}
	return "(because " + c.Reason + ")"
}

// drift renders the "Objects have changed outside of airctl" note.
func (o Options) drift(drift []*provision.Change) []string {
	lines := []string{
		o.bold("Note: Objects have changed outside of airctl"), "",
		`airctl detected the following changes made outside of airctl since the last "airctl apply" which may have affected this plan:`, "",
	}
	for _, c := range drift {
		lines = append(lines, o.change(c, true)...)
		lines = append(lines, "")
	}
	return append(lines,
		"Unless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.", "",
		strings.Repeat("─", 77), "")
}

// adopted renders the objects an interrupted apply created without
// recording them, which the plan takes over instead of creating again.
func (o Options) adopted(ads []provision.Adoption) []string {
	lines := []string{
		o.bold("Note: Objects adopted from an interrupted apply"), "",
		"An earlier apply stopped after it asked for these objects to be created but before it recorded them. They exist, so airctl adopts them instead of creating them again; the actions below start from them:", "",
	}
	for _, a := range ads {
		lines = append(lines, o.bold("  # "+a.Addr.String())+fmt.Sprintf(" will be adopted (id %q)", a.ImportID))
	}
	return append(lines, "", strings.Repeat("─", 77), "")
}

// outputChanges renders the changed outputs as "+ name = value" lines.
func (o Options) outputChanges(outs []*provision.OutputChange) []string {
	outs = append([]*provision.OutputChange(nil), outs...)
	sort.Slice(outs, func(i, j int) bool { return outs[i].Name < outs[j].Name })
	var es []entry
	for _, oc := range outs {
		before, after := oc.Before, oc.After
		if oc.Sensitive {
			before, after = sensitive(before), sensitive(after)
		}
		sym, lines, changed := o.diff(before, after, 0)
		if !changed || (isNull(oc.Before) && isNull(oc.After)) {
			continue
		}
		es = append(es, entry{sym: sym, name: oc.Name, lines: lines})
	}
	return o.emit(0, es)
}

// sensitive marks a whole output value so only "(sensitive value)" shows.
func sensitive(v cty.Value) cty.Value {
	if v == cty.NilVal {
		return v
	}
	return v.Mark(marks.Sensitive)
}
