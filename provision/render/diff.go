package render

import (
	"github.com/zclconf/go-cty/cty"
)

// valueLines renders one side of a value at depth: the first line
// continues the "name = " line, nested members are full lines carrying sym
// ("+" created, "-" destroyed, " " context).
func (o Options) valueLines(v cty.Value, depth int, sym string) []string {
	v, sensitive := split(v)
	switch {
	case sensitive:
		return []string{sensitiveValue}
	case !v.IsKnown():
		return []string{knownAfterApply}
	case v.IsNull():
		return []string{"null"}
	case isSequence(v.Type()):
		elems := elements(v)
		if len(elems) == 0 {
			return []string{"[]"}
		}
		es := make([]entry, 0, len(elems))
		for _, e := range elems {
			es = append(es, entry{sym: sym, lines: appendLast(o.valueLines(e, depth+1, sym), ",")})
		}
		return o.wrap("[", "]", depth, es)
	case isMapping(v.Type()):
		members := entries(v)
		if len(members) == 0 {
			return []string{"{}"}
		}
		es := make([]entry, 0, len(members))
		for _, k := range sortedKeys(members) {
			es = append(es, entry{sym: sym, name: keyText(k, v.Type().IsMapType()), lines: o.valueLines(members[k], depth+1, sym)})
		}
		return o.wrap("{", "}", depth, es)
	}
	return []string{primitive(v)}
}

// wrap renders a multi-line collection: the opening bracket continues the
// current line, members go one level deeper, the closing bracket lines up
// with the name that introduced it.
func (o Options) wrap(open, closing string, depth int, es []entry, notes ...string) []string {
	out := []string{open}
	out = append(out, o.emit(depth+1, es)...)
	for _, n := range notes {
		out = append(out, plainLine(depth+1, n))
	}
	return append(out, plainLine(depth, closing))
}

// diff renders the change of one value from before to after at depth and
// returns the symbol of the line that introduces it, its lines, and
// whether it changed at all. Both sides null means there is nothing to
// show; the caller skips it.
func (o Options) diff(before, after cty.Value, depth int) (string, []string, bool) {
	switch {
	case isNull(before) && isNull(after):
		return " ", []string{"null"}, false
	case isNull(before):
		return "+", o.valueLines(after, depth, "+"), true
	case isNull(after):
		return "-", appendLast(o.valueLines(before, depth, "-"), " -> null"), true
	case plainEqual(before, after):
		return " ", o.valueLines(after, depth, " "), false
	}
	b, bSens := split(before)
	a, aSens := split(after)
	switch {
	case bSens || aSens:
		return "~", []string{sensitiveValue}, true
	case !b.IsKnown() || !a.IsKnown() || b.IsNull() || a.IsNull():
	case isMapping(b.Type()) && isMapping(a.Type()):
		return "~", o.diffMapping(b, a, depth), true
	case b.Type().IsSetType() && a.Type().IsSetType():
		return "~", o.diffSet(b, a, depth), true
	case isSequence(b.Type()) && isSequence(a.Type()):
		return "~", o.diffSequence(b, a, depth), true
	}
	return "~", o.replaced(before, after, depth), true
}

// replaced renders "old -> new" for values that are not diffed member by
// member (primitives, unknowns, changed kinds).
func (o Options) replaced(before, after cty.Value, depth int) []string {
	left := o.valueLines(before, depth, "-")
	right := o.valueLines(after, depth, "+")
	left = appendLast(left, " -> "+right[0])
	return append(left, right[1:]...)
}

func (o Options) diffMapping(b, a cty.Value, depth int) []string {
	isMap := b.Type().IsMapType() && a.Type().IsMapType()
	bm, am := entries(b), entries(a)
	keys := map[string]bool{}
	for k := range bm {
		keys[k] = true
	}
	for k := range am {
		keys[k] = true
	}
	var es []entry
	hidden := 0
	for _, k := range sortedKeys(keys) {
		bv, ok := bm[k]
		if !ok {
			bv = cty.NullVal(cty.DynamicPseudoType)
		}
		av, ok := am[k]
		if !ok {
			av = cty.NullVal(cty.DynamicPseudoType)
		}
		sym, lines, changed := o.diff(bv, av, depth+1)
		if !changed {
			if !isNull(bv) || !isNull(av) {
				hidden++
			}
			continue
		}
		es = append(es, entry{sym: sym, name: keyText(k, isMap), lines: lines})
	}
	return o.wrap("{", "}", depth, es, hiddenNote(hidden, "element")...)
}

// diffSequence pairs list elements by their longest common subsequence, so
// an insertion shows as one "+" rather than every later element changing.
func (o Options) diffSequence(b, a cty.Value, depth int) []string {
	be, ae := elements(b), elements(a)
	var es []entry
	hidden := 0
	for _, op := range lcsOps(be, ae) {
		switch {
		case op.before != nil && op.after != nil:
			hidden++
		case op.before != nil:
			es = append(es, entry{sym: "-", lines: appendLast(o.valueLines(*op.before, depth+1, "-"), ",")})
		default:
			es = append(es, entry{sym: "+", lines: appendLast(o.valueLines(*op.after, depth+1, "+"), ",")})
		}
	}
	return o.wrap("[", "]", depth, es, hiddenNote(hidden, "element")...)
}

// diffSet shows removed and added members; sets have no order to keep.
func (o Options) diffSet(b, a cty.Value, depth int) []string {
	be, ae := elements(b), elements(a)
	var es []entry
	hidden := 0
	for _, e := range be {
		if containsEqual(ae, e) {
			hidden++
			continue
		}
		es = append(es, entry{sym: "-", lines: appendLast(o.valueLines(e, depth+1, "-"), ",")})
	}
	for _, e := range ae {
		if !containsEqual(be, e) {
			es = append(es, entry{sym: "+", lines: appendLast(o.valueLines(e, depth+1, "+"), ",")})
		}
	}
	return o.wrap("[", "]", depth, es, hiddenNote(hidden, "element")...)
}

func containsEqual(vs []cty.Value, v cty.Value) bool {
	for _, x := range vs {
		if plainEqual(x, v) {
			return true
		}
	}
	return false
}

func hiddenNote(n int, what string) []string {
	if n == 0 {
		return nil
	}
	return []string{"# (" + plural(n, "unchanged "+what) + " hidden)"}
}

// seqOp is one step of a sequence diff: kept (both set), removed (before
// only) or added (after only).
type seqOp struct {
	before, after *cty.Value
}

func lcsOps(b, a []cty.Value) []seqOp {
	// lengths[i][j] is the LCS length of b[i:] and a[j:].
	lengths := make([][]int, len(b)+1)
	for i := range lengths {
		lengths[i] = make([]int, len(a)+1)
	}
	for i := len(b) - 1; i >= 0; i-- {
		for j := len(a) - 1; j >= 0; j-- {
			if plainEqual(b[i], a[j]) {
				lengths[i][j] = lengths[i+1][j+1] + 1
			} else {
				lengths[i][j] = max(lengths[i+1][j], lengths[i][j+1])
			}
		}
	}
	var ops []seqOp
	i, j := 0, 0
	for i < len(b) || j < len(a) {
		switch {
		case i < len(b) && j < len(a) && plainEqual(b[i], a[j]):
			ops = append(ops, seqOp{before: &b[i], after: &a[j]})
			i, j = i+1, j+1
		case j >= len(a) || (i < len(b) && lengths[i+1][j] >= lengths[i][j+1]):
			ops = append(ops, seqOp{before: &b[i]})
			i++
		default:
			ops = append(ops, seqOp{after: &a[j]})
			j++
		}
	}
	return ops
}
