package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errInterrupted is the cause of a graceful stop.
var errInterrupted = errors.New("interrupted")

// stops carries the two ways a command is stopped: ctx ends at the first
// Ctrl-C (or when Run's ctx is cancelled) and makes the engine start
// nothing new while in-flight operations finish and are recorded; abort
// ends at the second Ctrl-C and cancels those operations too.
type stops struct {
	ctx, abort context.Context
	release    func()
}

// interruptible starts watching for interrupts until release is called.
func (m *meta) interruptible() *stops {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(m.ctx))
	abort, cancelAbort := context.WithCancelCause(context.WithoutCancel(m.ctx))
	done := make(chan struct{})
	go func() {
		parent := m.ctx.Done()
		// Cancel before telling the user, so that once the message is
		// out no new operation can start.
		first := func() {
			cancel(errInterrupted)
			fmt.Fprint(m.stderr, "\nInterrupt received.\nPlease wait for airctl to exit or data loss may occur.\nGracefully shutting down...\n")
		}
		n := 0
		for {
			select {
			case <-done:
				return
			case <-parent:
				parent = nil // a closed channel would fire forever
				if n == 0 {
					n = 1
					first()
				}
			case <-m.env.Interrupts:
				n++
				if n == 1 {
					first()
					continue
				}
				fmt.Fprint(m.stderr, "\nTwo interrupts received. Exiting immediately. Note that data loss may have occurred.\n")
				cancelAbort(errors.New("aborted by a second interrupt"))
				return
			}
		}
	}()
	var once sync.Once
	return &stops{ctx: ctx, abort: abort, release: func() {
		once.Do(func() {
			close(done)
			cancel(nil)
			cancelAbort(nil)
		})
	}}
}

// interrupted reports whether the graceful stop was requested.
func (s *stops) interrupted() bool {
	return errors.Is(context.Cause(s.ctx), errInterrupted)
}

// lockedWriter serialises writes from the engine's goroutines, the
// interrupt watcher and the command itself. Stdout and stderr share one
// lock, since tests (and terminals) may give the same writer for both.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
