// Package graph is the provisioning engine's dependency graph and its
// parallel walker.
//
// Nodes are keys (resource addresses, in practice); an edge "a depends on b"
// means a may only run after b finished successfully. Keys must be
// cmp.Ordered so that every listing, error message, topological order and
// DOT rendering is deterministic without asking callers for a comparator.
//
// # Walking
//
// [Walk] runs a function for every node, starting each one as soon as its
// own dependencies are done (no level-by-level barriers), with at most
// [WalkOptions.Parallelism] running at once. A single coordinator goroutine
// owns all scheduling state, so there are no locks around it and no
// goroutine outlives the call.
//
// # Stopping: graceful first, abort second
//
// Two contexts control a walk, and they are deliberately separate:
//
//   - ctx, the context passed to Walk, is the graceful stop. When it is done
//     the walker starts no new node, waits for the nodes already running and
//     reports everything else as skipped. Running nodes do NOT see this
//     cancellation: they receive a context derived with
//     context.WithoutCancel(ctx), so an API call that already went out
//     finishes and its result can be written to state.
//   - [WalkOptions.Abort] is the hard stop. When it is done the context
//     given to running nodes is cancelled (its cause wraps the abort cause),
//     so they return as soon as their clients notice.
//
// The CLI builds "Ctrl-C once = graceful, twice = abort" on top of this by
// cancelling ctx on the first interrupt and Abort on the second. A failing
// node triggers the same graceful stop as a cancelled ctx.
//
// Walk always waits for every running node to return, even after an abort,
// so no goroutine outlives it and every result is reported; a WalkFunc that
// ignores its context therefore keeps Walk waiting. A CLI that must exit no
// matter what does so itself (for example on a third interrupt).
package graph
