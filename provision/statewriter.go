package provision

import (
	"context"
	"fmt"
	"sync"

	"github.com/airctl/airctl/provision/state"
)

// stateWriter applies changes to the working state and writes them to the
// backend behind the walk: every change is written (a write covers all
// changes made before it started), but a dependent operation need not wait
// for the write of its dependency's result. A backend write costs an fsync
// or an HTTP round trip; waiting for one per operation would stretch every
// step of the critical path. Close waits until everything is durable, so
// a finished or interrupted apply returns only with its state written.
type stateWriter struct {
	backend state.Backend

	mu      sync.Mutex
	cond    *sync.Cond
	st      *state.State
	gen     uint64 // bumped by every change
	written uint64 // highest gen known durable
	closed  bool
	err     error // the first failed write; sticky
	done    chan struct{}
}

func newStateWriter(ctx context.Context, b state.Backend, st *state.State) *stateWriter {
	w := &stateWriter{backend: b, st: st, done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.loop(context.WithoutCancel(ctx))
	return w
}

// read runs fn with the state locked, for lookups.
func (w *stateWriter) read(fn func(*state.State)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(w.st)
}

// update applies fn, which reports whether it changed anything, and
// schedules a write. It returns an earlier write's failure, which stops
// the walk: continuing would make changes state cannot record.
func (w *stateWriter) update(fn func(*state.State) bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if fn(w.st) {
		w.gen++
		w.cond.Broadcast()
	}
	return nil
}

// updateDurable is update that returns once the change is written: for a
// record that must exist before the action it announces (a create intent;
// see applier.recordIntent).
func (w *stateWriter) updateDurable(fn func(*state.State) bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if !fn(w.st) {
		return nil
	}
	w.gen++
	gen := w.gen
	w.cond.Broadcast()
	for w.written < gen && w.err == nil {
		w.cond.Wait()
	}
	return w.err
}

// loop writes snapshots while there are unwritten changes.
func (w *stateWriter) loop(ctx context.Context) {
	defer close(w.done)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for w.written == w.gen && !w.closed {
			w.cond.Wait()
		}
		if w.written == w.gen {
			return // closed and all written
		}
		snap, gen := w.st.DeepCopy(), w.gen
		w.mu.Unlock()
		err := w.backend.Write(ctx, snap)
		w.mu.Lock()
		w.written = gen
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("save state: %w (the change was made; rerun the command to record it, or `airctl state push` a copy if the backend stays unavailable)", err)
		}
		if err == nil {
			w.st.Serial, w.st.Lineage = snap.Serial, snap.Lineage
		}
		w.cond.Broadcast()
	}
}

// close waits until every change is written and returns the first write
// error.
func (w *stateWriter) close() error {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
	<-w.done
	return w.err
}
