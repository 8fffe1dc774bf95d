package provision

import (
	"strings"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/graph"
	"github.com/airctl/airctl/provision/state"
)

// Node keys: "var.x", "local.x", "output.x", "provider.google[.alias]",
// "TYPE.NAME", "data.TYPE.NAME". Resources only in state (orphans) use
// their resource address too.
const (
	varPrefix      = "var."
	localPrefix    = "local."
	outputPrefix   = "output."
	providerPrefix = "provider."
	dataPrefix     = "data."
)

func providerNode(addr string) string { return providerPrefix + addr }

// Graph is the dependency graph the engine walks for cfg with no state
// (for `airctl graph`).
func Graph(cfg *config.Config) *graph.Graph[string] { return buildGraph(cfg, nil) }

// buildGraph makes the dependency graph of the configuration plus the
// resources that exist only in state, whose deletion must precede the
// deletion of what they depended on.
func buildGraph(cfg *config.Config, st *state.State) *graph.Graph[string] {
	g := graph.New[string]()
	for name := range cfg.Variables {
		g.Add(varPrefix + name)
	}
	for name, l := range cfg.Locals {
		connectRefs(g, localPrefix+name, l.References)
	}
	for addr, p := range cfg.Providers {
		connectRefs(g, providerNode(addr), p.References)
	}
	for _, r := range allResources(cfg) {
		addResource(g, r)
	}
	for name, o := range cfg.Outputs {
		connectRefs(g, outputPrefix+name, o.References)
		connectRefs(g, outputPrefix+name, o.DependsOn)
	}
	addOrphans(g, cfg, st)
	return g
}

func allResources(cfg *config.Config) []*config.Resource {
	out := make([]*config.Resource, 0, len(cfg.Resources)+len(cfg.DataSources))
	for _, r := range cfg.Resources {
		out = append(out, r)
	}
	for _, r := range cfg.DataSources {
		out = append(out, r)
	}
	return out
}

func addResource(g *graph.Graph[string], r *config.Resource) {
	key := r.Addr()
	connectRefs(g, key, r.References)
	connectRefs(g, key, r.DependsOn)
	connectRefs(g, key, r.Lifecycle.ReplaceTriggeredBy)
	g.Connect(key, providerNode(r.ProviderAddr()))
}

func connectRefs(g *graph.Graph[string], from string, refs []config.Reference) {
	g.Add(from)
	for _, ref := range refs {
		if ref.IsNode() && ref.Addr != from {
			g.Connect(from, ref.Addr)
		}
	}
}

// addOrphans adds state-only resources. An orphan must be deleted before
// anything it depended on is deleted or replaced, so the dependency's node
// waits for the orphan's.
func addOrphans(g *graph.Graph[string], cfg *config.Config, st *state.State) {
	if st == nil {
		return
	}
	for _, r := range st.Resources {
		addr := r.Addr().String()
		if inConfig(cfg, addr) {
			continue
		}
		g.Connect(addr, providerNode(stateProviderAddr(r.Provider, r.Type)))
		for _, inst := range r.Instances {
			for _, dep := range inst.Dependencies {
				if g.Has(dep) {
					g.Connect(dep, addr)
				}
			}
		}
	}
}

func inConfig(cfg *config.Config, addr string) bool {
	if strings.HasPrefix(addr, dataPrefix) {
		return cfg.DataSources[addr] != nil
	}
	return cfg.Resources[addr] != nil
}

// stateProviderAddr is the provider configuration recorded in state, or
// the implied one for states written without it.
func stateProviderAddr(recorded, typeName string) string {
	if recorded != "" {
		return recorded
	}
	return config.ImpliedProvider(typeName)
}

// destroyGraph orders deletion: dependents first. It uses the config's
// edges and the dependencies recorded in state, so resources already
// removed from the configuration are still destroyed in the right order.
func destroyGraph(cfg *config.Config, st *state.State) *graph.Graph[string] {
	g := graph.New[string]()
	for _, r := range st.Resources {
		addr := r.Addr().String()
		g.Add(addr)
		for _, inst := range r.Instances {
			for _, dep := range inst.Dependencies {
				g.Connect(dep, addr) // the dependency waits for its dependent
			}
		}
		if cr := cfgResource(cfg, addr); cr != nil {
			for _, ref := range append(cr.References, cr.DependsOn...) {
				if ref.Kind == config.RefResource || ref.Kind == config.RefDataSource {
					g.Connect(ref.Addr, addr)
				}
			}
		}
	}
	return g
}

func cfgResource(cfg *config.Config, addr string) *config.Resource {
	if r := cfg.Resources[addr]; r != nil {
		return r
	}
	return cfg.DataSources[addr]
}

// targetFilter keeps the targets, what they need, and the providers,
// variables and locals on the way.
func targetFilter(g *graph.Graph[string], targets []state.Address) func(string) bool {
	if len(targets) == 0 {
		return func(string) bool { return true }
	}
	keys := make([]string, 0, len(targets))
	for _, t := range targets {
		if g.Has(t.Resource().String()) {
			keys = append(keys, t.Resource().String())
		}
	}
	keep := map[string]bool{}
	for _, k := range append(keys, g.TransitiveDeps(keys...)...) {
		keep[k] = true
	}
	return func(k string) bool { return keep[k] }
}
