package graph

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
)

// DefaultParallelism is the number of nodes run at once when
// WalkOptions.Parallelism is not set, matching Terraform's -parallelism.
const DefaultParallelism = 10

// WalkFunc performs the work of one node. ctx is not cancelled by the
// graceful stop, only by an abort (see the package documentation).
type WalkFunc[K cmp.Ordered] func(ctx context.Context, k K) error

// WalkOptions tunes [Walk].
type WalkOptions struct {
	// Parallelism caps how many nodes run at once; <= 0 means
	// DefaultParallelism.
	Parallelism int
	// Abort, when done, cancels the context of running nodes (the hard
	// stop). Nil means a walk can only be stopped gracefully.
	Abort context.Context
}

// NodeError is the error one node's WalkFunc returned.
type NodeError[K cmp.Ordered] struct {
	Node K
	Err  error
}

func (e NodeError[K]) Error() string { return fmt.Sprintf("%v: %v", e.Node, e.Err) }
func (e NodeError[K]) Unwrap() error { return e.Err }

// Result says what happened to every node of a walk. Each node is in exactly
// one of Done, Failed and Skipped; all three are in ascending key order.
type Result[K cmp.Ordered] struct {
	Done    []K            // WalkFunc returned nil
	Failed  []NodeError[K] // WalkFunc returned an error or panicked
	Skipped []K            // never started: a failure, an interruption or an invalid graph stopped the walk first

	// Invalid is the *CycleError that kept the walk from starting at all.
	Invalid error
	// Interrupted wraps the cause of the ctx or Abort cancellation
	// ("walk interrupted: ...", "walk aborted: ...") when it stopped the walk
	// with nodes left unstarted.
	Interrupted error
}

// Err joins every reason the walk did not complete, or returns nil when
// every node is in Done.
func (r Result[K]) Err() error {
	errs := []error{r.Invalid}
	for _, f := range r.Failed {
		errs = append(errs, f)
	}
	errs = append(errs, r.Interrupted)
	return errors.Join(errs...)
}

// Walk runs fn once for every node of g, starting each node as soon as all
// of its dependencies returned nil, with at most opts.Parallelism running at
// once; among nodes that are ready together, smaller keys start first.
//
// A graph with a cycle is refused before anything runs (Result.Invalid).
// The first failure, or ctx being done, stops the walk gracefully: no new
// node starts, the running ones finish and are reported, the rest are
// skipped. opts.Abort additionally cancels the running nodes' context.
// Walk returns only after every fn call has returned; it snapshots g first.
func Walk[K cmp.Ordered](ctx context.Context, g *Graph[K], opts WalkOptions, fn WalkFunc[K]) Result[K] {
	return walk(ctx, g, opts, fn, walkHooks[K]{})
}

// walkHooks lets tests observe the coordinator; production code passes none.
type walkHooks[K cmp.Ordered] struct {
	// started runs on the coordinator when it launches k.
	started func(k K)
	// processed runs on the coordinator right after it has taken in k's
	// result, before it decides what to start next.
	processed func(k K, err error)
}

type nodeState uint8

const (
	unstarted nodeState = iota
	running
	done
	failed
)

type completion struct {
	node int
	err  error
}

func walk[K cmp.Ordered](ctx context.Context, g *Graph[K], opts WalkOptions, fn WalkFunc[K], hooks walkHooks[K]) Result[K] {
	ix := g.index()
	if err := ix.validate(); err != nil {
		return Result[K]{Skipped: ix.keys, Invalid: err}
	}
	abort := opts.Abort
	if abort == nil {
		abort = context.Background() // never done
	}
	// Running nodes keep ctx's values but not its cancellation; only Abort
	// reaches them.
	nodeCtx, cancelNodes := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelNodes(nil)
	stopAbortWatch := context.AfterFunc(abort, func() {
		cancelNodes(fmt.Errorf("walk aborted: %w", context.Cause(abort)))
	})
	defer stopAbortWatch()

	w := newWalker(ix, opts.Parallelism, fn, hooks)
	w.run(ctx, abort, nodeCtx)
	return w.result()
}

// walker is the scheduling state of one walk. Only the coordinator
// goroutine (the one calling run) touches it; node goroutines only send on
// results.
type walker[K cmp.Ordered] struct {
	ix       *indexed[K]
	fn       WalkFunc[K]
	hooks    walkHooks[K]
	par      int
	states   []nodeState
	pending  []int   // per node: dependencies not yet done
	ready    minHeap // nodes whose dependencies are all done, not started
	results  chan completion
	inFlight int
	stopping bool // no more starts: a failure or an interruption happened
	res      Result[K]
}

func newWalker[K cmp.Ordered](ix *indexed[K], par int, fn WalkFunc[K], hooks walkHooks[K]) *walker[K] {
	if par <= 0 {
		par = DefaultParallelism
	}
	w := &walker[K]{
		ix: ix, fn: fn, hooks: hooks, par: par,
		states:  make([]nodeState, len(ix.keys)),
		pending: make([]int, len(ix.keys)),
		// Buffered so a finishing node's goroutine can exit without waiting
		// for the coordinator to get round to it.
		results: make(chan completion, par),
	}
	for i, deps := range ix.deps {
		w.pending[i] = len(deps)
		if len(deps) == 0 {
			w.ready.push(i)
		}
	}
	return w
}

// run starts nodes and takes in their results until nothing is running and
// nothing more may start. It returns only when every node goroutine it
// started has delivered its result, so none outlives the walk.
func (w *walker[K]) run(ctx, abort, nodeCtx context.Context) {
	ctxDone, abortDone := ctx.Done(), abort.Done()
	for {
		w.startReady(ctx, abort, nodeCtx)
		if w.inFlight == 0 {
			return
		}
		select {
		case c := <-w.results:
			w.take(c)
		case <-ctxDone:
			ctxDone = nil // seen; stop selecting on it
			w.interrupt(ctx, abort)
		case <-abortDone:
			abortDone = nil
			w.interrupt(ctx, abort)
		}
	}
}

// startReady launches ready nodes, smallest key first, while slots are free.
func (w *walker[K]) startReady(ctx, abort, nodeCtx context.Context) {
	for !w.stopping && w.inFlight < w.par && w.ready.len() > 0 {
		// Checked before every start, not only in run's select, so a
		// cancellation that happened before a result came in always wins
		// over starting the next node.
		if ctx.Err() != nil || abort.Err() != nil {
			w.interrupt(ctx, abort)
			return
		}
		i := w.ready.pop()
		w.states[i] = running
		w.inFlight++
		if w.hooks.started != nil {
			w.hooks.started(w.ix.keys[i])
		}
		go func() { w.results <- completion{i, call(nodeCtx, w.fn, w.ix.keys[i])} }()
	}
}

// take records a finished node: a failure stops the walk, a success may make
// dependents ready.
func (w *walker[K]) take(c completion) {
	w.inFlight--
	if c.err != nil {
		w.states[c.node] = failed
		w.res.Failed = append(w.res.Failed, NodeError[K]{Node: w.ix.keys[c.node], Err: c.err})
		w.stopping = true
	} else {
		w.states[c.node] = done
		for _, d := range w.ix.rdeps[c.node] {
			if w.pending[d]--; w.pending[d] == 0 {
				w.ready.push(d)
			}
		}
	}
	if w.hooks.processed != nil {
		w.hooks.processed(w.ix.keys[c.node], c.err)
	}
}

// interrupt starts the graceful stop for a cancelled ctx or Abort and
// remembers why, unless a failure already stopped the walk.
func (w *walker[K]) interrupt(ctx, abort context.Context) {
	if w.stopping {
		return
	}
	w.stopping = true
	if err := context.Cause(abort); err != nil {
		w.res.Interrupted = fmt.Errorf("walk aborted: %w", err)
	} else {
		w.res.Interrupted = fmt.Errorf("walk interrupted: %w", context.Cause(ctx))
	}
}

// result sorts every node into Done, Failed or Skipped.
func (w *walker[K]) result() Result[K] {
	res := w.res
	for i, s := range w.states {
		switch s {
		case done:
			res.Done = append(res.Done, w.ix.keys[i])
		case unstarted:
			res.Skipped = append(res.Skipped, w.ix.keys[i])
		}
	}
	if len(res.Skipped) == 0 {
		res.Interrupted = nil // a late interruption that cost nothing
	}
	slices.SortFunc(res.Failed, func(a, b NodeError[K]) int { return cmp.Compare(a.Node, b.Node) })
	return res
}

// call runs fn, turning a panic into the node's error so that a buggy
// provider stops the walk gracefully and the other in-flight operations
// still get recorded, instead of crashing the process mid-apply.
func call[K cmp.Ordered](ctx context.Context, fn WalkFunc[K], k K) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, k)
}
