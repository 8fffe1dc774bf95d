package provision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/provision"
)

// BenchmarkPlan1000NoRefresh plans 1,000 resources (a chain of references
// every tenth, the rest independent) against an empty state. The baseline
// in the same run is loading the configuration alone.
func BenchmarkPlan1000NoRefresh(b *testing.B) {
	var src strings.Builder
	for i := range 1000 {
		if i%10 == 0 || i == 0 {
			fmt.Fprintf(&src, "resource \"test_thing\" \"r%d\" {\n  name = \"r%d\"\n  size = %d\n  tags = { team = \"data\", env = \"prod\" }\n}\n", i, i, i)
			continue
		}
		fmt.Fprintf(&src, "resource \"test_thing\" \"r%d\" {\n  name = \"r%d-${test_thing.r%d.name}\"\n  size = %d\n}\n", i, i, i-i%10, i)
	}
	f := newFixture(b, map[string]string{"main.tf": src.String()})
	for b.Loop() {
		start := time.Now()
		e := f.engineB(b)
		load := time.Since(start)
		p, err := e.Plan(context.Background(), provision.PlanOptions{SkipRefresh: true})
		if err != nil || len(p.Changes) != 1000 {
			b.Fatalf("plan: %v (%d changes)", err, len(p.Changes))
		}
		total := time.Since(start)
		b.ReportMetric(float64(total)/float64(time.Millisecond), "plan-ms")
		b.ReportMetric(float64(load)/float64(time.Millisecond), "load-config-ms")
		b.ReportMetric(float64(total)/float64(load), "plan/load")
	}
}

// BenchmarkApplyWalkOverhead applies a layered graph of test_slow resources
// (each create sleeps 20 ms) whose width never exceeds the parallelism, so
// the critical path (longest chain × 20 ms) is the lower bound.
func BenchmarkApplyWalkOverhead(b *testing.B) {
	const layers, width, sleep = 10, 5, 20
	var src strings.Builder
	for l := range layers {
		for w := range width {
			fmt.Fprintf(&src, "resource \"test_slow\" \"l%dw%d\" {\n  name = \"l%dw%d\"\n  sleep_ms = %d\n", l, w, l, w, sleep)
			if l > 0 {
				fmt.Fprintf(&src, "  tags = { up = test_slow.l%dw%d.id }\n", l-1, (w+1)%width)
			}
			src.WriteString("}\n")
		}
	}
	for b.Loop() {
		f := newFixture(b, map[string]string{"main.tf": src.String()})
		f.par = width
		e := f.engineB(b)
		p, err := e.Plan(context.Background(), provision.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := e.Apply(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		floor := time.Now()
		for range layers {
			time.Sleep(sleep * time.Millisecond) // the critical path, slept back to back
		}
		critical := time.Since(floor)
		b.ReportMetric(float64(elapsed)/float64(critical), "x-critical-path")
	}
}
