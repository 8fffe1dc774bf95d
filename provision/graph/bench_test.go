package graph

import (
	"context"
	"testing"
	"time"
)

// BenchmarkWalkOverhead walks 200 nodes that each sleep for a fixed time, in
// a layered DAG never wider than the parallelism. Width never limits the
// walk, so the longest chain times the sleep is the true lower bound, and
// x-critical-path (goal <= 1.1) is what scheduling adds on top of it.
// x-sleep-chain compares against the same number of back-to-back
// time.Sleep calls measured in the same run, which separates walker overhead
// from the timer's own overshoot. The 10 ms of work is short for a real API
// call (seconds) yet long enough that the timer's slack (a few hundred µs
// per sleep on a loaded 2-CPU machine) does not dominate the ratio.
func BenchmarkWalkOverhead(b *testing.B) {
	const (
		nodes = 200
		par   = 10
		work  = 10 * time.Millisecond
	)
	g, depth := layered(42, nodes, par)
	critical := time.Duration(depth) * work
	fn := func(context.Context, string) error {
		time.Sleep(work) // the node's simulated API call, not synchronisation
		return nil
	}
	var walked, slept time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := Walk(context.Background(), g, WalkOptions{Parallelism: par}, fn).Err(); err != nil {
			b.Fatal(err)
		}
		walked += time.Since(start)

		b.StopTimer()
		start = time.Now()
		for range depth {
			time.Sleep(work)
		}
		slept += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(walked)/float64(time.Duration(b.N)*critical), "x-critical-path")
	b.ReportMetric(float64(walked)/float64(slept), "x-sleep-chain")
	b.ReportMetric(float64(depth), "chain-len")
}

// BenchmarkWalk10000Nodes measures the walker's own cost per node (snapshot,
// cycle check, scheduling, one goroutine each) with a no-op WalkFunc.
func BenchmarkWalk10000Nodes(b *testing.B) {
	const nodes = 10000
	g, _ := layered(42, nodes, 100)
	fn := func(context.Context, string) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := Walk(context.Background(), g, WalkOptions{Parallelism: DefaultParallelism}, fn).Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nodes), "ns/node")
}
