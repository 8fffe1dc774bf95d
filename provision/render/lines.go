package render

import "strings"

// Layout, as in Terraform's plan output: a line that carries an action
// symbol at depth d puts the symbol so that the names after it start at
// column 4d+4; plain lines (closing braces, "# (N unchanged ...)" notes)
// start at that column too. Depth 0 is the resource header, whose symbol
// may be three characters wide ("-/+"), right-aligned.

// symLine starts a line at depth with an action symbol.
func (o Options) symLine(depth int, sym, text string) string {
	pad := 4*depth + 3 - len(sym)
	return strings.Repeat(" ", max(pad, 0)) + o.symbol(sym) + " " + text
}

// plainLine is a line without a symbol, aligned with the names at depth.
func plainLine(depth int, text string) string {
	return strings.Repeat(" ", 4*depth+4) + text
}

// appendLast adds s to the last of lines.
func appendLast(lines []string, s string) []string {
	if len(lines) > 0 {
		lines[len(lines)-1] += s
	}
	return lines
}

// attach puts a line prefix before the first of lines (which continues a
// line) and returns the whole set of full lines.
func attach(prefix string, lines []string) []string {
	out := make([]string, 0, len(lines))
	out = append(out, prefix+lines[0])
	return append(out, lines[1:]...)
}

// entry is one rendered member of a body or collection before alignment:
// a symbol, a name (empty for sequence elements) and the value's lines,
// the first of which continues the "name = " line.
type entry struct {
	sym   string
	name  string
	lines []string
	// suffix goes at the end of the first line ("# forces replacement").
	suffix string
}

// emit writes entries at depth, aligning the "=" of named entries.
func (o Options) emit(depth int, es []entry) []string {
	width := 0
	for _, e := range es {
		width = max(width, len(e.name))
	}
	var out []string
	for _, e := range es {
		head := ""
		if e.name != "" {
			head = e.name + strings.Repeat(" ", width-len(e.name)) + " = "
		}
		lines := append([]string(nil), e.lines...)
		lines[0] += e.suffix
		out = append(out, attach(o.symLine(depth, e.sym, head), lines)...)
	}
	return out
}
