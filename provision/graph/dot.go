package graph

import (
	"fmt"
	"strings"
)

// Dot renders g in Graphviz DOT for `airctl graph`. Every node is listed (so
// isolated nodes show up) followed by every edge, drawn from a node to what
// it depends on as Terraform does, all in ascending order so the output is
// byte-for-byte stable. name turns a key into its label; nil means
// fmt.Sprint.
func (g *Graph[K]) Dot(name func(K) string) string {
	if name == nil {
		name = func(k K) string { return fmt.Sprint(k) }
	}
	ix := g.index()
	var b strings.Builder
	b.WriteString("digraph {\n")
	for _, k := range ix.keys {
		fmt.Fprintf(&b, "\t%s;\n", dotQuote(name(k)))
	}
	for i, deps := range ix.deps {
		for _, d := range deps {
			fmt.Fprintf(&b, "\t%s -> %s;\n", dotQuote(name(ix.keys[i])), dotQuote(name(ix.keys[d])))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote makes s a DOT double-quoted ID. Only backslash, double quote and
// line breaks need escaping there; everything else, including Unicode, is
// taken literally.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
