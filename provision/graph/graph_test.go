package graph

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNodesAndEdges(t *testing.T) {
	g := build("c->a", "b->a", "c->b", "d", "c->a")
	if got, want := g.Nodes(), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("Nodes() = %v, want %v", got, want)
	}
	if got, want := g.DependsOn("c"), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("DependsOn(c) = %v, want %v", got, want)
	}
	if got, want := g.Dependents("a"), []string{"b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Dependents(a) = %v, want %v", got, want)
	}
	if got := g.DependsOn("missing"); len(got) != 0 {
		t.Errorf("DependsOn(missing) = %v, want none", got)
	}
	if !g.Has("d") || g.Has("z") || g.Len() != 4 {
		t.Errorf("Has/Len wrong: Has(d)=%v Has(z)=%v Len=%d", g.Has("d"), g.Has("z"), g.Len())
	}
}

func TestCycles(t *testing.T) {
	tests := []struct {
		name    string
		g       *Graph[string]
		want    [][]string
		wantErr string
	}{
		{name: "dag", g: build("a->b", "b->c", "a->c")},
		{name: "empty", g: New[string]()},
		{
			name:    "three-cycle",
			g:       build("b->c", "a->b", "c->a"),
			want:    [][]string{{"a", "b", "c"}},
			wantErr: "cycle: a -> b -> c -> a",
		},
		{
			name: "cycle with tails in and out",
			g:    build("root->x", "x->y", "y->z", "z->x", "z->leaf"),
			want: [][]string{{"x", "y", "z"}},
		},
		{
			name:    "two cycles and a self loop",
			g:       build("a->b", "b->a", "p->q", "q->r", "r->p", "s->s", "a->p", "t"),
			want:    [][]string{{"a", "b"}, {"p", "q", "r"}, {"s"}},
			wantErr: "cycle: a -> b -> a; cycle: p -> q -> r -> p; cycle: s -> s",
		},
		{
			// Not a simple cycle: every node is named, b twice because the
			// only way on from c is back through b.
			name:    "figure eight",
			g:       build("a->b", "b->a", "b->c", "c->b"),
			want:    [][]string{{"a", "b", "c", "b"}},
			wantErr: "cycle: a -> b -> c -> b -> a",
		},
		{
			name: "smallest node first, cycle order kept",
			g:    build("m->z", "z->c", "c->m"),
			want: [][]string{{"c", "m", "z"}},
		},
		{
			name: "reverse direction",
			g:    build("a->c", "c->b", "b->a"),
			want: [][]string{{"a", "c", "b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.g.Cycles()
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("Cycles() = %v, want %v", got, tt.want)
			}
			err := tt.g.Validate()
			if (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("Validate() = %v, want error: %v", err, len(tt.want) > 0)
			}
			if err == nil {
				return
			}
			var ce *CycleError[string]
			if !errors.As(err, &ce) || len(ce.Cycles) != len(tt.want) {
				t.Errorf("Validate() = %#v, want *CycleError with %d cycles", err, len(tt.want))
			}
			if tt.wantErr != "" && err.Error() != tt.wantErr {
				t.Errorf("Validate() = %q, want %q", err, tt.wantErr)
			}
			for _, c := range tt.want {
				for _, k := range c {
					if !strings.Contains(err.Error(), k) {
						t.Errorf("Validate() = %q does not name %q", err, k)
					}
				}
			}
			if _, err := tt.g.TopoOrder(); !errors.As(err, &ce) {
				t.Errorf("TopoOrder() error = %v, want *CycleError", err)
			}
		})
	}
}

func TestTopoOrder(t *testing.T) {
	tests := []struct {
		name string
		g    *Graph[string]
		want []string
	}{
		{name: "empty", g: New[string](), want: []string{}},
		{name: "independent nodes sorted", g: build("c", "a", "b"), want: []string{"a", "b", "c"}},
		{name: "chain", g: build("a->b", "b->c"), want: []string{"c", "b", "a"}},
		{
			// After z, both y and b are ready; b is smaller. a needs both.
			name: "ties broken by key",
			g:    build("a->b", "a->y", "y->z", "b->z", "x"),
			want: []string{"x", "z", "b", "y", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // map iteration order is random: must not leak out
				got, err := tt.g.TopoOrder()
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("TopoOrder() = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestTopoOrderRespectsEdges(t *testing.T) {
	g, _ := layered(7, 500, 20)
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := make(map[string]int, len(order))
	for i, k := range order {
		pos[k] = i
	}
	if len(pos) != g.Len() {
		t.Fatalf("TopoOrder() has %d distinct nodes, graph has %d", len(pos), g.Len())
	}
	for _, k := range g.Nodes() {
		for _, d := range g.DependsOn(k) {
			if pos[d] >= pos[k] {
				t.Errorf("%s (at %d) comes before its dependency %s (at %d)", k, pos[k], d, pos[d])
			}
		}
	}
}

func TestReverse(t *testing.T) {
	g := build("app->db", "app->net", "db->net", "lonely")
	r := g.Reverse()
	order, err := r.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app", "db", "lonely", "net"}; !slices.Equal(order, want) {
		t.Errorf("reverse TopoOrder() = %v, want %v (dependents first)", order, want)
	}
	if got, want := r.DependsOn("net"), []string{"app", "db"}; !slices.Equal(got, want) {
		t.Errorf("reversed DependsOn(net) = %v, want %v", got, want)
	}
	r.Connect("lonely", "app")
	if g.Has("lonely") && len(g.DependsOn("lonely")) != 0 {
		t.Error("mutating the reversed graph changed the original")
	}
}

func TestTransitive(t *testing.T) {
	// vm -> subnet -> network; vm -> disk; sql -> network; dns -> vm
	g := build("vm->subnet", "subnet->network", "vm->disk", "sql->network", "dns->vm", "other")
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"deps of vm", g.TransitiveDeps("vm"), []string{"disk", "network", "subnet"}},
		{"deps of vm and sql", g.TransitiveDeps("vm", "sql"), []string{"disk", "network", "subnet"}},
		{"deps of leaf", g.TransitiveDeps("network"), []string{}},
		{"deps of unknown", g.TransitiveDeps("nope"), []string{}},
		{"dependents of network", g.TransitiveDependents("network"), []string{"dns", "sql", "subnet", "vm"}},
		{"deps in a cycle include self", build("a->b", "b->a", "b->c").TransitiveDeps("a"), []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestSubgraphForTarget(t *testing.T) {
	g := build("vm->subnet", "subnet->network", "sql->network", "dns->vm")
	keep := map[string]bool{"vm": true}
	for _, k := range g.TransitiveDeps("vm") {
		keep[k] = true
	}
	s := g.Subgraph(func(k string) bool { return keep[k] })
	if got, want := s.Nodes(), []string{"network", "subnet", "vm"}; !slices.Equal(got, want) {
		t.Errorf("Subgraph nodes = %v, want %v", got, want)
	}
	if got, want := s.Dependents("network"), []string{"subnet"}; !slices.Equal(got, want) {
		t.Errorf("Subgraph Dependents(network) = %v, want %v (sql dropped)", got, want)
	}
	if got, want := s.DependsOn("vm"), []string{"subnet"}; !slices.Equal(got, want) {
		t.Errorf("Subgraph DependsOn(vm) = %v, want %v", got, want)
	}
}

func TestDot(t *testing.T) {
	g := build("google_compute_instance.vm->google_compute_network.net", `odd"name->back\slash`, "lonely")
	want := `digraph {
	"back\\slash";
	"google_compute_instance.vm";
	"google_compute_network.net";
	"lonely";
	"odd\"name";
	"google_compute_instance.vm" -> "google_compute_network.net";
	"odd\"name" -> "back\\slash";
}
`
	for range 10 {
		if got := g.Dot(nil); got != want {
			t.Fatalf("Dot(nil) =\n%s\nwant\n%s", got, want)
		}
	}
	named := g.Dot(func(k string) string { return "[root] " + k })
	if !strings.Contains(named, `"[root] google_compute_instance.vm" -> "[root] google_compute_network.net";`) {
		t.Errorf("Dot(name) did not use the name function:\n%s", named)
	}
}

func TestIntKeys(t *testing.T) {
	g := New[int]()
	g.Connect(10, 2)
	g.Connect(2, 10)
	if err := g.Validate(); err == nil || err.Error() != "cycle: 2 -> 10 -> 2" {
		t.Errorf("Validate() = %v, want numeric order cycle: 2 -> 10 -> 2", err)
	}
}
