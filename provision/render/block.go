package render

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// bodyMode says which unchanged members a body shows.
type bodyMode int

const (
	// showAll: create, delete and read show every non-null member.
	showAll bodyMode = iota
	// hideUnchanged: updates and replacements show what changes (plus the
	// identifying id and name) and count the rest.
	hideUnchanged
)

// identifying attributes are shown even when unchanged, so an update says
// which object it is about.
func identifying(name string) bool { return name == "id" || name == "name" }

// body renders the members of a block (a resource or a nested block) at
// depth, following the schema so nested blocks look like blocks. replace
// holds the paths that force replacement.
type body struct {
	o       Options
	replace []cty.Path
}

func (b body) render(sch *provider.Schema, before, after cty.Value, depth int, path cty.Path, mode bodyMode) []string {
	if sch == nil {
		sch = impliedSchema(before, after)
	}
	before, _ = split(before)
	after, _ = split(after)
	var es []entry
	hidden := 0
	for _, name := range sortedKeys(sch.Attributes) {
		bv, av := member(before, name, sch.Attributes[name].Type), member(after, name, sch.Attributes[name].Type)
		sym, lines, changed := b.o.diff(bv, av, depth)
		switch {
		case isNull(bv) && isNull(av):
			continue
		case !changed && mode == hideUnchanged && !(depth == 1 && identifying(name)):
			hidden++
			continue
		}
		es = append(es, entry{sym: sym, name: name, lines: lines, suffix: b.forces(path.GetAttr(name))})
	}
	out := b.o.emit(depth, es)
	out = append(out, notes(depth, hiddenNote(hidden, "attribute"))...)
	blocks, hiddenBlocks := b.blocks(sch, before, after, depth, path, mode)
	for _, blk := range blocks {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, blk...)
	}
	if hiddenBlocks > 0 {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, notes(depth, hiddenNote(hiddenBlocks, "block"))...)
	}
	return out
}

func notes(depth int, ns []string) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, plainLine(depth, n))
	}
	return out
}

// blocks renders every nested block instance; each is its own group of
// lines, separated by blank lines as Terraform does.
func (b body) blocks(sch *provider.Schema, before, after cty.Value, depth int, path cty.Path, mode bodyMode) ([][]string, int) {
	var out [][]string
	hidden := 0
	for _, name := range sortedKeys(sch.Blocks) {
		nb := sch.Blocks[name]
		ty := nb.Block.ImpliedType()
		bp := path.GetAttr(name)
		bv, av := member(before, name, blockType(nb, ty)), member(after, name, blockType(nb, ty))
		bv, _ = split(bv)
		av, _ = split(av)
		if !av.IsKnown() || !bv.IsKnown() {
			sym := "+"
			if !isNull(bv) {
				sym = "~"
			}
			out = append(out, []string{b.o.symLine(depth, sym, name+" "+knownAfterApply+b.forces(bp))})
			continue
		}
		for _, pair := range pairBlocks(nb, bv, av, bp) {
			lines, changed := b.block(&nb.Block, name, pair, depth, mode)
			switch {
			case lines == nil:
			case !changed && mode == hideUnchanged:
				hidden++
			default:
				out = append(out, lines)
			}
		}
	}
	return out, hidden
}

// blockPair is one nested block instance before and after, with its path.
type blockPair struct {
	before, after cty.Value
	path          cty.Path
}

// pairBlocks matches block instances: by position in lists, by equality
// in sets (an unmatched set element is removed or added).
func pairBlocks(nb *provider.NestedBlock, bv, av cty.Value, path cty.Path) []blockPair {
	null := cty.NullVal(nb.Block.ImpliedType())
	switch nb.Nesting {
	case provider.NestingList:
		be, ae := elements(bv), elements(av)
		var out []blockPair
		for i := range max(len(be), len(ae)) {
			p := blockPair{before: null, after: null, path: path.IndexInt(i)}
			if i < len(be) {
				p.before = be[i]
			}
			if i < len(ae) {
				p.after = ae[i]
			}
			out = append(out, p)
		}
		return out
	case provider.NestingSet:
		be, ae := elements(bv), elements(av)
		var out []blockPair
		for _, e := range be {
			p := blockPair{before: e, after: null, path: path.Index(e)}
			if containsEqual(ae, e) {
				p.after = e
			}
			out = append(out, p)
		}
		for _, e := range ae {
			if !containsEqual(be, e) {
				out = append(out, blockPair{before: null, after: e, path: path.Index(e)})
			}
		}
		return out
	}
	return []blockPair{{before: bv, after: av, path: path}}
}

// block renders one nested block instance; nil lines mean it is absent on
// both sides.
func (b body) block(sch *provider.Schema, name string, p blockPair, depth int, mode bodyMode) ([]string, bool) {
	var sym string
	inner := mode
	switch {
	case isNull(p.before) && isNull(p.after):
		return nil, false
	case isNull(p.before):
		sym, inner = "+", showAll
	case isNull(p.after):
		sym, inner = "-", showAll
	case plainEqual(p.before, p.after):
		sym = " "
	default:
		sym, inner = "~", hideUnchanged
	}
	lines := []string{b.o.symLine(depth, sym, name+" {"+b.forces(p.path))}
	lines = append(lines, b.render(sch, p.before, p.after, depth+1, p.path, inner)...)
	lines = append(lines, plainLine(depth, "}"))
	return lines, sym != " "
}

// forces is the note on a member whose change forces replacement.
func (b body) forces(p cty.Path) string {
	for _, rp := range b.replace {
		if rp.Equals(p) {
			return " # forces replacement"
		}
	}
	return ""
}

// member is an object's attribute, or a null (or unknown) of ty when the
// object itself is null (unknown).
func member(obj cty.Value, name string, ty cty.Type) cty.Value {
	obj, _ = split(obj)
	switch {
	case !obj.IsKnown():
		return cty.UnknownVal(ty)
	case obj.IsNull() || !obj.Type().IsObjectType() || !obj.Type().HasAttribute(name):
		return cty.NullVal(ty)
	}
	return obj.GetAttr(name)
}

func blockType(nb *provider.NestedBlock, elem cty.Type) cty.Type {
	switch nb.Nesting {
	case provider.NestingList:
		return cty.List(elem)
	case provider.NestingSet:
		return cty.Set(elem)
	}
	return elem
}

// impliedSchema treats every attribute of the object as a plain attribute,
// for changes that come without a schema.
func impliedSchema(vals ...cty.Value) *provider.Schema {
	sch := &provider.Schema{Attributes: map[string]*provider.Attribute{}}
	for _, v := range vals {
		v, _ = split(v)
		if v.Type().IsObjectType() {
			for name, ty := range v.Type().AttributeTypes() {
				sch.Attributes[name] = &provider.Attribute{Type: ty}
			}
		}
	}
	return sch
}
