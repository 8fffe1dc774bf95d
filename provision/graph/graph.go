package graph

import (
	"cmp"
	"slices"
)

// Graph is a directed graph of keys where an edge from a to b means
// "a depends on b". The zero value is not usable; call [New].
//
// A Graph is not safe for concurrent mutation. [Walk] snapshots it when it
// starts, so it must not be mutated while Walk is being called but may be
// afterwards.
type Graph[K cmp.Ordered] struct {
	ids   map[K]int // key -> position in nodes, in insertion order
	nodes []node[K]
	edges map[[2]int]bool // {from, dependsOn} ids, so Connect can ignore duplicates
}

// node keeps adjacency as id slices rather than sets: snapshotting for a
// walk then costs no map iteration, which dominated the walker's overhead.
type node[K cmp.Ordered] struct {
	key   K
	deps  []int // ids of the nodes this one depends on, unordered
	rdeps []int // ids of the nodes that depend on this one, unordered
}

// New returns an empty graph.
func New[K cmp.Ordered]() *Graph[K] {
	return &Graph[K]{ids: make(map[K]int), edges: make(map[[2]int]bool)}
}

// Add adds k as a node; adding an existing node is a no-op.
func (g *Graph[K]) Add(k K) { g.id(k) }

// id returns k's id, adding k first if needed.
func (g *Graph[K]) id(k K) int {
	if id, ok := g.ids[k]; ok {
		return id
	}
	g.ids[k] = len(g.nodes)
	g.nodes = append(g.nodes, node[K]{key: k})
	return len(g.nodes) - 1
}

// Connect records that from depends on dependsOn, adding either node if it
// is missing; repeating an edge is a no-op. from == dependsOn is allowed and
// is a cycle (a self loop), which [Graph.Validate] reports.
func (g *Graph[K]) Connect(from, dependsOn K) {
	f, d := g.id(from), g.id(dependsOn)
	if g.edges[[2]int{f, d}] {
		return
	}
	g.edges[[2]int{f, d}] = true
	g.nodes[f].deps = append(g.nodes[f].deps, d)
	g.nodes[d].rdeps = append(g.nodes[d].rdeps, f)
}

// Has reports whether k is a node of g.
func (g *Graph[K]) Has(k K) bool {
	_, ok := g.ids[k]
	return ok
}

// Len returns the number of nodes.
func (g *Graph[K]) Len() int { return len(g.nodes) }

// Nodes returns every node in ascending order.
func (g *Graph[K]) Nodes() []K {
	keys := make([]K, len(g.nodes))
	for i, n := range g.nodes {
		keys[i] = n.key
	}
	slices.Sort(keys)
	return keys
}

// DependsOn returns, in ascending order, the nodes k directly depends on.
func (g *Graph[K]) DependsOn(k K) []K {
	return g.neighbours(k, func(n node[K]) []int { return n.deps })
}

// Dependents returns, in ascending order, the nodes that directly depend on k.
func (g *Graph[K]) Dependents(k K) []K {
	return g.neighbours(k, func(n node[K]) []int { return n.rdeps })
}

func (g *Graph[K]) neighbours(k K, side func(node[K]) []int) []K {
	id, ok := g.ids[k]
	if !ok {
		return nil
	}
	return g.sortedKeys(side(g.nodes[id]))
}

func (g *Graph[K]) sortedKeys(ids []int) []K {
	keys := make([]K, len(ids))
	for i, id := range ids {
		keys[i] = g.nodes[id].key
	}
	slices.Sort(keys)
	return keys
}

// Reverse returns a copy of g with every edge flipped, so that walking it
// visits dependents before their dependencies, which is the order destroy
// needs.
func (g *Graph[K]) Reverse() *Graph[K] {
	r := New[K]()
	for _, n := range g.nodes {
		r.Add(n.key)
	}
	for _, n := range g.nodes {
		for _, d := range n.deps {
			r.Connect(g.nodes[d].key, n.key)
		}
	}
	return r
}

// Subgraph returns a copy of g holding only the nodes for which keep returns
// true and the edges between them. Edges through a dropped node are not
// bridged, so keep a dependency-closed set (see [Graph.TransitiveDeps]) when
// the order of what remains matters.
func (g *Graph[K]) Subgraph(keep func(K) bool) *Graph[K] {
	s := New[K]()
	for _, n := range g.nodes {
		if keep(n.key) {
			s.Add(n.key)
		}
	}
	for _, n := range g.nodes {
		if !s.Has(n.key) {
			continue
		}
		for _, d := range n.deps {
			if dk := g.nodes[d].key; s.Has(dk) {
				s.Connect(n.key, dk)
			}
		}
	}
	return s
}

// TransitiveDeps returns, in ascending order, every node reachable from ks
// by following one or more depends-on edges: everything ks need to exist.
// A node of ks is included only if it depends on itself through a cycle.
// For `-target`, keep ks plus this set with [Graph.Subgraph].
func (g *Graph[K]) TransitiveDeps(ks ...K) []K {
	return g.reach(ks, func(n node[K]) []int { return n.deps })
}

// TransitiveDependents returns, in ascending order, every node that depends
// on one of ks directly or indirectly: what a targeted destroy must remove
// first.
func (g *Graph[K]) TransitiveDependents(ks ...K) []K {
	return g.reach(ks, func(n node[K]) []int { return n.rdeps })
}

// reach collects the nodes reachable from starts through side's edges
// (excluding the starts unless they are reached again), iteratively so that
// long chains cannot exhaust the stack. Unknown starts are ignored.
func (g *Graph[K]) reach(starts []K, side func(node[K]) []int) []K {
	seen := make([]bool, len(g.nodes))
	var stack, found []int
	for _, k := range starts {
		if id, ok := g.ids[k]; ok {
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, next := range side(g.nodes[id]) {
			if !seen[next] {
				seen[next] = true
				found = append(found, next)
				stack = append(stack, next)
			}
		}
	}
	return g.sortedKeys(found)
}
