package graph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder notes the global order in which nodes start and finish.
type recorder struct {
	mu         sync.Mutex
	seq        int
	start, end map[string]int
	starts     []string
	calls      map[string]int
}

func newRecorder() *recorder {
	return &recorder{start: map[string]int{}, end: map[string]int{}, calls: map[string]int{}}
}

func (r *recorder) begin(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start[k] = r.seq
	r.seq++
	r.starts = append(r.starts, k)
	r.calls[k]++
}

func (r *recorder) finish(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.end[k] = r.seq
	r.seq++
}

func (r *recorder) started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts)
}

func TestWalkOrder(t *testing.T) {
	checkNoLeaks(t)
	random, _ := layered(1, 200, 12)
	tests := []struct {
		name string
		g    *Graph[string]
		par  int
	}{
		{"empty", New[string](), 3},
		{"single", build("a"), 3},
		{"chain", build("a->b", "b->c", "c->d"), 3},
		{"diamond", build("top->l", "top->r", "l->bottom", "r->bottom"), 3},
		{"wide", build("a", "b", "c", "d", "e", "f", "g"), 3},
		{"random par 1", random, 1},
		{"random par 3", random, 3},
		{"random par 10", random, 10},
		{"random par 64", random, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			res := Walk(t.Context(), tt.g, WalkOptions{Parallelism: tt.par}, func(_ context.Context, k string) error {
				rec.begin(k)
				rec.finish(k)
				return nil
			})
			if err := res.Err(); err != nil {
				t.Fatalf("Walk() error = %v", err)
			}
			if !slices.Equal(res.Done, tt.g.Nodes()) || len(res.Skipped) != 0 || len(res.Failed) != 0 {
				t.Fatalf("Walk() = %+v, want every node done", res)
			}
			for _, k := range tt.g.Nodes() {
				if rec.calls[k] != 1 {
					t.Errorf("%s ran %d times, want 1", k, rec.calls[k])
				}
				for _, d := range tt.g.DependsOn(k) {
					if rec.end[d] > rec.start[k] {
						t.Errorf("%s started (seq %d) before its dependency %s finished (seq %d)", k, rec.start[k], d, rec.end[d])
					}
				}
			}
		})
	}
}

// With one slot the walk must be exactly the deterministic topological order.
func TestWalkParallelismOneFollowsTopoOrder(t *testing.T) {
	g, _ := layered(3, 150, 8)
	want, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	res := Walk(t.Context(), g, WalkOptions{Parallelism: 1}, func(_ context.Context, k string) error {
		rec.begin(k)
		return nil
	})
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	if got := rec.started(); !slices.Equal(got, want) {
		t.Errorf("start order differs from TopoOrder:\n got %v\nwant %v", got, want)
	}
}

func TestWalkBoundedConcurrency(t *testing.T) {
	checkNoLeaks(t)
	tests := []struct {
		nodes, par, wantMax int
	}{
		{nodes: 50, par: 5, wantMax: 5},
		{nodes: 10, par: 10, wantMax: 10},
		{nodes: 3, par: 10, wantMax: 3},
		{nodes: 20, par: 1, wantMax: 1},
		{nodes: 37, par: 0, wantMax: DefaultParallelism},
		{nodes: 25, par: -1, wantMax: DefaultParallelism},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d nodes par %d", tt.nodes, tt.par), func(t *testing.T) {
			g := New[string]()
			for i := range tt.nodes {
				g.Add(fmt.Sprintf("n%03d", i))
			}
			// The coordinator's own count (launched minus taken-in results)
			// is exact; the fns' count below can lag it, so it alone could
			// miss an extra launch.
			var launched, maxLaunched int
			hooks := walkHooks[string]{
				started:   func(string) { launched++; maxLaunched = max(maxLaunched, launched) },
				processed: func(string, error) { launched-- },
			}
			var inFlight, maxInFlight atomic.Int64
			started := make(chan struct{}, tt.nodes)
			release := make(chan struct{}, tt.nodes)
			go func() {
				// Let nodes start until every slot is taken, check the walk
				// actually filled them, then let everything finish.
				for range tt.wantMax {
					<-started
				}
				if got := inFlight.Load(); got != int64(tt.wantMax) {
					t.Errorf("in flight after %d starts = %d, want %d", tt.wantMax, got, tt.wantMax)
				}
				for range tt.nodes {
					release <- struct{}{}
				}
			}()
			res := walk(t.Context(), g, WalkOptions{Parallelism: tt.par}, func(_ context.Context, k string) error {
				n := inFlight.Add(1)
				for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
				}
				started <- struct{}{}
				<-release
				inFlight.Add(-1)
				return nil
			}, hooks)
			if maxLaunched != tt.wantMax {
				t.Errorf("max launched at once = %d, want %d", maxLaunched, tt.wantMax)
			}
			if err := res.Err(); err != nil || len(res.Done) != tt.nodes {
				t.Fatalf("Walk() = %+v, %v; want all %d done", res, err, tt.nodes)
			}
			if got := maxInFlight.Load(); got != int64(tt.wantMax) {
				t.Errorf("max in flight = %d, want %d", got, tt.wantMax)
			}
		})
	}
}

// c depends only on b. It must start while the unrelated slow node a, which
// is on the same "level" as b, is still running: a finishes only once c has
// started, so a level-by-level walker would trip the watchdog.
func TestWalkNoLevelBarrier(t *testing.T) {
	checkNoLeaks(t)
	g := build("c->b", "a", "d->a", "e->c")
	cStarted := make(chan struct{})
	res := Walk(t.Context(), g, WalkOptions{Parallelism: 10}, func(_ context.Context, k string) error {
		switch k {
		case "a":
			return await(cStarted, "c starting while a runs")
		case "c":
			close(cStarted)
		}
		return nil
	})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(res.Done, want) {
		t.Errorf("Done = %v, want %v", res.Done, want)
	}
}

// a fails while b and c are running; b and c are let go only after the
// walker has taken in a's failure. Nothing else may start; b's success and
// c's error are both reported.
func TestWalkFirstErrorStopsNewStarts(t *testing.T) {
	checkNoLeaks(t)
	g := build("a", "b", "c", "d", "e", "f->a", "g->b")
	errA, errC := errors.New("a broke"), errors.New("c broke")
	bStarted, cStarted, aProcessed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	rec := newRecorder()
	hooks := walkHooks[string]{processed: func(k string, _ error) {
		if k == "a" {
			close(aProcessed)
		}
	}}
	res := walk(t.Context(), g, WalkOptions{Parallelism: 3}, func(_ context.Context, k string) error {
		rec.begin(k)
		switch k {
		case "a":
			if err := errors.Join(await(bStarted, "b start"), await(cStarted, "c start")); err != nil {
				return err
			}
			return errA
		case "b":
			close(bStarted)
			return await(aProcessed, "a's failure processed")
		case "c":
			close(cStarted)
			if err := await(aProcessed, "a's failure processed"); err != nil {
				return err
			}
			return errC
		}
		return nil
	}, hooks)

	if got, want := rec.started(), []string{"a", "b", "c"}; !sameSet(got, want) {
		t.Errorf("started %v, want only %v", got, want)
	}
	if want := []string{"b"}; !slices.Equal(res.Done, want) {
		t.Errorf("Done = %v, want %v", res.Done, want)
	}
	if got := failedNodes(res); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("Failed = %v, want [a c]", res.Failed)
	}
	if want := []string{"d", "e", "f", "g"}; !slices.Equal(res.Skipped, want) {
		t.Errorf("Skipped = %v, want %v", res.Skipped, want)
	}
	err := res.Err()
	if !errors.Is(err, errA) || !errors.Is(err, errC) {
		t.Errorf("Err() = %v, want both errors", err)
	}
	var ne NodeError[string]
	if !errors.As(err, &ne) || ne.Node != "a" || !strings.Contains(err.Error(), "c: c broke") {
		t.Errorf("Err() = %q, want node-named errors", err)
	}
	if res.Interrupted != nil || res.Invalid != nil {
		t.Errorf("Interrupted = %v, Invalid = %v, want nil", res.Interrupted, res.Invalid)
	}
}

func TestWalkSkipsAfterFailure(t *testing.T) {
	checkNoLeaks(t)
	tests := []struct {
		name                  string
		g                     *Graph[string]
		fail                  string
		done, failed, skipped []string
	}{
		{
			name: "dependents of a failure",
			g:    build("b->a", "c->b", "d->c"), fail: "b",
			done: []string{"a"}, failed: []string{"b"}, skipped: []string{"c", "d"},
		},
		{
			name: "unrelated nodes not yet started",
			g:    build("a", "b", "c", "z->a"), fail: "a",
			failed: []string{"a"}, skipped: []string{"b", "c", "z"},
		},
		{
			name: "failure of the last node",
			g:    build("b->a", "c"), fail: "c",
			done: []string{"a", "b"}, failed: []string{"c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Walk(t.Context(), tt.g, WalkOptions{Parallelism: 1}, func(_ context.Context, k string) error {
				if k == tt.fail {
					return errors.New("boom")
				}
				return nil
			})
			if !slices.Equal(res.Done, tt.done) || !slices.Equal(failedNodes(res), tt.failed) || !slices.Equal(res.Skipped, tt.skipped) {
				t.Errorf("Walk() done=%v failed=%v skipped=%v, want %v %v %v",
					res.Done, failedNodes(res), res.Skipped, tt.done, tt.failed, tt.skipped)
			}
			if res.Err() == nil {
				t.Error("Err() = nil, want the failure")
			}
		})
	}
}

type ctxKey struct{}

// Cancelling the walk's ctx stops new starts; running nodes finish with a
// context that is neither cancelled nor stripped of values.
func TestWalkGracefulCancel(t *testing.T) {
	checkNoLeaks(t)
	g := build("a", "b", "c", "d", "e->a")
	cause := errors.New("first ctrl-c")
	ctx, cancel := context.WithCancelCause(context.WithValue(t.Context(), ctxKey{}, "v"))
	defer cancel(nil)
	started := make(chan string, 5)
	release := make(chan struct{})
	go func() {
		<-started
		<-started
		cancel(cause)
		close(release)
	}()
	res := Walk(ctx, g, WalkOptions{Parallelism: 2}, func(ctx context.Context, k string) error {
		started <- k
		if err := await(release, "release"); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("node context cancelled by a graceful stop: %w", context.Cause(ctx))
		}
		if ctx.Value(ctxKey{}) != "v" {
			return errors.New("node context lost the walk context's values")
		}
		return nil
	})
	if want := []string{"a", "b"}; !slices.Equal(res.Done, want) || len(res.Failed) != 0 {
		t.Errorf("Done = %v, Failed = %v; want %v done, none failed", res.Done, res.Failed, want)
	}
	if want := []string{"c", "d", "e"}; !slices.Equal(res.Skipped, want) {
		t.Errorf("Skipped = %v, want %v", res.Skipped, want)
	}
	if !errors.Is(res.Interrupted, cause) || !errors.Is(res.Err(), cause) {
		t.Errorf("Interrupted = %v, Err() = %v; want the cancel cause", res.Interrupted, res.Err())
	}
}

// Abort cancels the context of running nodes, with or without a graceful
// stop first, and also stops new starts.
func TestWalkAbort(t *testing.T) {
	checkNoLeaks(t)
	for _, gracefulFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("graceful first %v", gracefulFirst), func(t *testing.T) {
			g := build("a", "b", "c", "d->a")
			abortCause := errors.New("second ctrl-c")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			abort, abortNow := context.WithCancelCause(context.Background())
			defer abortNow(nil)
			started := make(chan string, 4)
			go func() {
				<-started
				<-started
				if gracefulFirst {
					cancel()
				}
				abortNow(abortCause)
			}()
			res := Walk(ctx, g, WalkOptions{Parallelism: 2, Abort: abort}, func(ctx context.Context, k string) error {
				started <- k
				select {
				case <-ctx.Done():
					return context.Cause(ctx)
				case <-time.After(watchdog):
					return errors.New("watchdog: never aborted")
				}
			})
			if got := failedNodes(res); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("Failed = %v, want [a b]", res.Failed)
			}
			for _, f := range res.Failed {
				if !errors.Is(f, abortCause) {
					t.Errorf("%s failed with %v, want the abort cause", f.Node, f.Err)
				}
			}
			if want := []string{"c", "d"}; !slices.Equal(res.Skipped, want) {
				t.Errorf("Skipped = %v, want %v", res.Skipped, want)
			}
			if len(res.Done) != 0 {
				t.Errorf("Done = %v, want none", res.Done)
			}
		})
	}
}

func TestWalkCancelledBeforeStart(t *testing.T) {
	checkNoLeaks(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var calls atomic.Int64
	fn := func(context.Context, string) error { calls.Add(1); return nil }

	res := Walk(ctx, build("a->b", "c"), WalkOptions{}, fn)
	if calls.Load() != 0 || !slices.Equal(res.Skipped, []string{"a", "b", "c"}) {
		t.Errorf("calls = %d, Skipped = %v; want nothing run, all skipped", calls.Load(), res.Skipped)
	}
	if !errors.Is(res.Err(), context.Canceled) {
		t.Errorf("Err() = %v, want context.Canceled", res.Err())
	}
	if res := Walk(ctx, New[string](), WalkOptions{}, fn); res.Err() != nil {
		t.Errorf("empty graph: Err() = %v, want nil (nothing was lost)", res.Err())
	}
}

func TestWalkRefusesCycle(t *testing.T) {
	checkNoLeaks(t)
	var calls atomic.Int64
	g := build("ok", "a->b", "b->c", "c->a", "s->s")
	res := Walk(t.Context(), g, WalkOptions{}, func(context.Context, string) error {
		calls.Add(1)
		return nil
	})
	if calls.Load() != 0 {
		t.Errorf("fn ran %d times on a cyclic graph, want 0", calls.Load())
	}
	var ce *CycleError[string]
	if !errors.As(res.Err(), &ce) || !errors.As(res.Invalid, &ce) {
		t.Fatalf("Err() = %v, want *CycleError", res.Err())
	}
	if want := "cycle: a -> b -> c -> a; cycle: s -> s"; res.Err().Error() != want {
		t.Errorf("Err() = %q, want %q", res.Err(), want)
	}
	if !slices.Equal(res.Skipped, g.Nodes()) {
		t.Errorf("Skipped = %v, want every node", res.Skipped)
	}
}

func TestWalkPanicBecomesError(t *testing.T) {
	checkNoLeaks(t)
	res := Walk(t.Context(), build("b->a", "c"), WalkOptions{Parallelism: 1}, func(_ context.Context, k string) error {
		if k == "a" {
			panic("provider bug")
		}
		return nil
	})
	if len(res.Failed) != 1 || res.Failed[0].Node != "a" || !strings.Contains(res.Failed[0].Err.Error(), "panic: provider bug") {
		t.Errorf("Failed = %v, want a's panic as its error", res.Failed)
	}
	if !slices.Equal(res.Skipped, []string{"b", "c"}) {
		t.Errorf("Skipped = %v, want [b c]", res.Skipped)
	}
}

// Random graphs, parallelism and failures: whatever happens, each node ends
// up in exactly one list, only after its dependencies succeeded, once.
func TestWalkRandomInvariants(t *testing.T) {
	checkNoLeaks(t)
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 99))
		g, _ := layered(seed, 20+rng.IntN(100), 1+rng.IntN(15))
		failing := map[string]bool{}
		for _, k := range g.Nodes() {
			if rng.IntN(40) == 0 {
				failing[k] = true
			}
		}
		par := 1 + rng.IntN(12)
		var mu sync.Mutex
		succeeded := map[string]bool{}
		calls := map[string]int{}
		res := Walk(t.Context(), g, WalkOptions{Parallelism: par}, func(_ context.Context, k string) error {
			mu.Lock()
			defer mu.Unlock()
			calls[k]++
			for _, d := range g.DependsOn(k) {
				if !succeeded[d] {
					return fmt.Errorf("started before dependency %s succeeded", d)
				}
			}
			if failing[k] {
				return errors.New("injected")
			}
			succeeded[k] = true
			return nil
		})
		all := slices.Concat(res.Done, failedNodes(res), res.Skipped)
		slices.Sort(all)
		if !slices.Equal(all, g.Nodes()) {
			t.Fatalf("seed %d: done+failed+skipped = %v, want each node once", seed, all)
		}
		for _, f := range res.Failed {
			if !failing[f.Node] || f.Err.Error() != "injected" {
				t.Errorf("seed %d: %v", seed, f)
			}
		}
		for k, n := range calls {
			if n != 1 {
				t.Errorf("seed %d: %s ran %d times", seed, k, n)
			}
		}
		if (len(res.Failed) == 0) != (len(res.Done) == g.Len()) {
			t.Errorf("seed %d: %d failed but %d/%d done", seed, len(res.Failed), len(res.Done), g.Len())
		}
	}
}

func failedNodes(res Result[string]) []string {
	out := []string{}
	for _, f := range res.Failed {
		out = append(out, f.Node)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
