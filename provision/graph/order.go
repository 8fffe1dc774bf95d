package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// indexed is an immutable snapshot of a Graph with nodes numbered in
// ascending key order. Because index order equals key order, algorithms can
// break ties by comparing ints and still be deterministic in K, and the
// walker's hot path avoids map lookups.
type indexed[K cmp.Ordered] struct {
	keys  []K
	deps  [][]int // ascending
	rdeps [][]int // ascending
}

func (g *Graph[K]) index() *indexed[K] {
	// byKey lists node ids in ascending key order; pos inverts it.
	byKey := make([]int, len(g.nodes))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(a, b int) int { return cmp.Compare(g.nodes[a].key, g.nodes[b].key) })
	pos := make([]int, len(g.nodes))
	keys := make([]K, len(g.nodes))
	for i, id := range byKey {
		pos[id] = i
		keys[i] = g.nodes[id].key
	}
	ix := &indexed[K]{keys: keys, deps: make([][]int, len(keys)), rdeps: make([][]int, len(keys))}
	// One backing array per direction instead of one slice per node: the
	// walker snapshots on every call.
	depBuf, rdepBuf := make([]int, 0, len(g.edges)), make([]int, 0, len(g.edges))
	for i, id := range byKey {
		depBuf, ix.deps[i] = appendPositions(depBuf, g.nodes[id].deps, pos)
		rdepBuf, ix.rdeps[i] = appendPositions(rdepBuf, g.nodes[id].rdeps, pos)
	}
	return ix
}

// appendPositions appends the sorted positions of ids to buf and returns
// the grown buffer and the appended part, capped so appending to the part
// cannot spill into the next node's.
func appendPositions(buf, ids, pos []int) (grown, part []int) {
	start := len(buf)
	for _, id := range ids {
		buf = append(buf, pos[id])
	}
	part = buf[start:len(buf):len(buf)]
	slices.Sort(part)
	return buf, part
}

// CycleError is returned for a graph that has cycles. Cycles lists each one
// as a closed walk as described at [Graph.Cycles].
type CycleError[K cmp.Ordered] struct {
	Cycles [][]K
}

// Error names every node of every cycle, e.g. "cycle: a -> b -> c -> a".
func (e *CycleError[K]) Error() string {
	parts := make([]string, len(e.Cycles))
	for i, c := range e.Cycles {
		var b strings.Builder
		b.WriteString("cycle: ")
		for _, k := range c {
			fmt.Fprintf(&b, "%v -> ", k)
		}
		fmt.Fprintf(&b, "%v", c[0])
		parts[i] = b.String()
	}
	return strings.Join(parts, "; ")
}

// Cycles returns every cycle of g: one entry per strongly connected
// component with more than one node, and one per self loop. Each entry is a
// closed walk through every node of its component, starting at the smallest
// node and implicitly returning to it: [a b c] means a -> b -> c -> a. When
// the component is a simple cycle, as it usually is, each node appears
// once; otherwise a node may repeat, because a walk through all nodes may
// have to pass through one twice. Entries are sorted by their first node.
func (g *Graph[K]) Cycles() [][]K { return g.index().cycles() }

// Validate returns a *CycleError naming every cycle, or nil for a DAG.
func (g *Graph[K]) Validate() error { return g.index().validate() }

// TopoOrder returns every node with dependencies before their dependents,
// breaking ties by ascending key so the order is deterministic. It returns a
// *CycleError if g has a cycle.
func (g *Graph[K]) TopoOrder() ([]K, error) {
	ix := g.index()
	if err := ix.validate(); err != nil {
		return nil, err
	}
	pending := make([]int, len(ix.keys))
	var ready minHeap
	for i := range ix.keys {
		pending[i] = len(ix.deps[i])
		if pending[i] == 0 {
			ready.push(i)
		}
	}
	order := make([]K, 0, len(ix.keys))
	for ready.len() > 0 {
		i := ready.pop()
		order = append(order, ix.keys[i])
		for _, d := range ix.rdeps[i] {
			if pending[d]--; pending[d] == 0 {
				ready.push(d)
			}
		}
	}
	return order, nil
}

func (ix *indexed[K]) validate() error {
	if cycles := ix.cycles(); len(cycles) > 0 {
		return &CycleError[K]{Cycles: cycles}
	}
	return nil
}

func (ix *indexed[K]) cycles() [][]K {
	var out [][]K
	for _, scc := range ix.cyclicSCCs() {
		walk := ix.closedWalk(scc)
		keys := make([]K, len(walk))
		for i, n := range walk {
			keys[i] = ix.keys[n]
		}
		out = append(out, keys)
	}
	slices.SortFunc(out, func(a, b []K) int { return cmp.Compare(a[0], b[0]) })
	return out
}

// cyclicSCCs returns the strongly connected components (Tarjan's algorithm)
// that are cycles, each sorted ascending: those with more than one node,
// and single nodes with a self loop. The others, every node of a valid
// graph, are dropped without allocating because Walk runs this each time.
func (ix *indexed[K]) cyclicSCCs() [][]int {
	n := len(ix.keys)
	const unvisited = -1
	order := make([]int, n) // discovery index
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range order {
		order[i] = unvisited
	}
	var stack []int
	var out [][]int
	next := 0
	// Recursion depth is bounded by the longest dependency chain; goroutine
	// stacks grow, so even very deep graphs are fine.
	var visit func(v int)
	visit = func(v int) {
		order[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range ix.deps[v] {
			switch {
			case order[w] == unvisited:
				visit(w)
				low[v] = min(low[v], low[w])
			case onStack[w]:
				low[v] = min(low[v], order[w])
			}
		}
		if low[v] != order[v] {
			return // v is inside a component rooted further up
		}
		root := len(stack) - 1 // v and everything pushed after it
		for stack[root] != v {
			root--
		}
		scc := stack[root:]
		for _, w := range scc {
			onStack[w] = false
		}
		if len(scc) > 1 || slices.Contains(ix.deps[v], v) {
			scc = slices.Clone(scc)
			slices.Sort(scc)
			out = append(out, scc)
		}
		stack = stack[:root]
	}
	for v := range n {
		if order[v] == unvisited {
			visit(v)
		}
	}
	return out
}

// closedWalk returns a walk along depends-on edges that starts at the
// smallest node of the strongly connected component scc, visits all of its
// nodes and can return to the start (the return edge is implied). It hops
// to each not-yet-visited node in ascending order by a shortest path, so a
// simple cycle comes out as exactly that cycle and the result is
// deterministic.
func (ix *indexed[K]) closedWalk(scc []int) []int {
	start := scc[0]
	if len(scc) == 1 {
		return []int{start} // a self loop
	}
	in := make(map[int]bool, len(scc))
	for _, v := range scc {
		in[v] = true
	}
	walk := []int{start}
	visited := map[int]bool{start: true}
	cur := start
	for _, v := range scc {
		if visited[v] {
			continue
		}
		for _, step := range ix.shortestPath(cur, v, in) {
			walk = append(walk, step)
			visited[step] = true
		}
		cur = v
	}
	back := ix.shortestPath(cur, start, in)
	return append(walk, back[:len(back)-1]...) // drop start: the return is implied
}

// shortestPath finds, by breadth-first search inside the component in, the
// path from src to dst (src != dst) and returns it without src. A path
// always exists because the component is strongly connected.
func (ix *indexed[K]) shortestPath(src, dst int, in map[int]bool) []int {
	prev := map[int]int{src: src}
	queue := []int{src}
	for len(queue) > 0 && !hasKey(prev, dst) {
		v := queue[0]
		queue = queue[1:]
		for _, w := range ix.deps[v] {
			if in[w] && !hasKey(prev, w) {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	var path []int
	for v := dst; v != src; v = prev[v] {
		path = append(path, v)
	}
	slices.Reverse(path)
	return path
}

func hasKey(m map[int]int, k int) bool {
	_, ok := m[k]
	return ok
}

// minHeap is a binary min-heap of node indices. It is hand-rolled rather
// than container/heap so that pushes and pops do not box ints into
// interfaces on the walker's hot path.
type minHeap struct{ s []int }

func (h *minHeap) len() int { return len(h.s) }

func (h *minHeap) push(v int) {
	h.s = append(h.s, v)
	for i := len(h.s) - 1; i > 0; {
		parent := (i - 1) / 2
		if h.s[parent] <= h.s[i] {
			break
		}
		h.s[parent], h.s[i] = h.s[i], h.s[parent]
		i = parent
	}
}

func (h *minHeap) pop() int {
	top := h.s[0]
	last := len(h.s) - 1
	h.s[0] = h.s[last]
	h.s = h.s[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < last && h.s[l] < h.s[smallest] {
			smallest = l
		}
		if r < last && h.s[r] < h.s[smallest] {
			smallest = r
		}
		if smallest == i {
			return top
		}
		h.s[i], h.s[smallest] = h.s[smallest], h.s[i]
		i = smallest
	}
}
