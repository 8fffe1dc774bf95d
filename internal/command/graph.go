package command

import (
	"fmt"
	"strings"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/graph"
)

const graphUsage = `Usage: airctl [global options] graph [options]

  Prints the configuration's dependency graph in Graphviz DOT, an edge
  going from each node to what it depends on. By default only resources
  and data sources are shown, with dependencies through variables, locals
  and outputs followed to the resources behind them. Render it with, for
  example: airctl graph | dot -Tsvg > graph.svg

Options:
  -full      Show every node: variables, locals, providers and outputs.
`

func runGraph(m *meta, args []string) int {
	fs := m.flagSet()
	full := fs.Bool("full", false, "show every node")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return m.usageError("graph takes no arguments")
	}
	cfg := m.loadConfig()
	if cfg == nil {
		return exitError
	}
	g := provision.Graph(cfg)
	if !*full {
		g = resourcesOnly(g)
	}
	if err := g.Validate(); err != nil {
		m.showError(fmt.Errorf("the configuration has a dependency cycle: %w", err))
		fmt.Fprint(m.stdout, g.Dot(nil)) // still useful to see the cycle
		return exitError
	}
	fmt.Fprint(m.stdout, g.Dot(nil))
	return exitOK
}

func isSetting(k string) bool {
	for _, p := range []string{"var.", "local.", "output.", "provider."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// resourcesOnly keeps resource and data nodes, connecting each to the
// resources it reaches through settings (a local built from another
// resource's attribute still orders the two).
func resourcesOnly(g *graph.Graph[string]) *graph.Graph[string] {
	out := graph.New[string]()
	for _, k := range g.Nodes() {
		if isSetting(k) {
			continue
		}
		out.Add(k)
		seen := map[string]bool{}
		stack := g.DependsOn(k)
		for len(stack) > 0 {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[d] {
				continue
			}
			seen[d] = true
			if isSetting(d) {
				stack = append(stack, g.DependsOn(d)...)
				continue
			}
			out.Connect(k, d)
		}
	}
	return out
}
