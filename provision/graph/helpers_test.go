package graph

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// watchdog bounds every wait in a test so that a walker bug (a deadlock, a
// barrier that should not exist) fails with a message instead of hanging.
// It is never what makes a test pass.
const watchdog = 10 * time.Second

// await waits for ch to be closed, or returns an error naming what it was
// waiting for once the watchdog fires.
func await(ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-time.After(watchdog):
		return fmt.Errorf("watchdog: %s did not happen within %v", what, watchdog)
	}
}

// checkNoLeaks fails t if goroutines started during the test are still
// alive at cleanup. Goroutines that already delivered their result may take
// a moment to exit, hence the bounded wait.
func checkNoLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d before, %d after\n%s",
					before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// layered builds a random DAG with a fixed seed: layers of 1..maxWidth
// nodes, each node past the first layer depending on at least one node of
// the previous layer (so the longest chain has exactly one node per layer)
// and sometimes on earlier ones. Names are zero-padded so key order follows
// creation order.
func layered(seed uint64, nodes, maxWidth int) (g *Graph[string], depth int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	g = New[string]()
	var prev, all []string
	for len(all) < nodes {
		width := min(1+rng.IntN(maxWidth), nodes-len(all))
		var layer []string
		for range width {
			k := fmt.Sprintf("n%05d", len(all))
			g.Add(k)
			if len(prev) > 0 {
				for range 1 + rng.IntN(3) {
					g.Connect(k, prev[rng.IntN(len(prev))])
				}
				if rng.IntN(4) == 0 {
					g.Connect(k, all[rng.IntN(len(all)-len(prev)+1)])
				}
			}
			layer = append(layer, k)
			all = append(all, k)
		}
		prev = layer
		depth++
	}
	return g, depth
}

// build makes a graph from "a->b" (a depends on b) and "a" specs.
func build(specs ...string) *Graph[string] {
	g := New[string]()
	for _, s := range specs {
		from, to, ok := strings.Cut(s, "->")
		if !ok {
			g.Add(s)
			continue
		}
		g.Connect(from, to)
	}
	return g
}
