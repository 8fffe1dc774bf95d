package app

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// drainingListener lets the webserver stop gracefully without dropping a
// request: http.Server.Shutdown closes, unanswered, a connection whose
// request it reads after Shutdown began. With socket activation that is a
// request which waited in the socket's backlog while the previous process
// restarted, and which would otherwise have been served. So the webserver
// first stops accepting, turns keep-alives off and lets every connection
// it accepted finish its request and close, and only then shuts down.
type drainingListener struct {
	net.Listener
	closeOnce sync.Once
	closeErr  error

	conns sync.Map     // net.Conn -> struct{}: accepted and not closed
	open  atomic.Int64 // how many are in conns
}

// Close may be called by drain and again by Shutdown.
func (l *drainingListener) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.Listener.Close() })
	return l.closeErr
}

// connState is the server's ConnState hook: it counts open connections.
func (l *drainingListener) connState(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		l.conns.Store(c, struct{}{})
		l.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		if _, ok := l.conns.LoadAndDelete(c); ok {
			l.open.Add(-1)
		}
	}
}

// drain stops srv accepting (connections keep queueing in the socket for
// the next process when it is shared), waits for Serve to return on
// served, by when every accepted connection is counted, and then until
// they have all been answered and closed, or ctx ends. A silent
// connection ends within the server's ReadHeaderTimeout. It returns
// Serve's error.
func (l *drainingListener) drain(ctx context.Context, srv *http.Server, served <-chan error) error {
	_ = l.Close()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		return ctx.Err()
	}
	srv.SetKeepAlivesEnabled(false) // each connection closes after its response
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for l.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return serveErr
		case <-tick.C:
		}
	}
	return serveErr
}
