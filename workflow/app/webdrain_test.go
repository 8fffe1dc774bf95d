package app

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestDrainAnswersRequestsOfAcceptedConnections: a connection accepted
// before the stop whose request arrives after it is answered, not closed
// unanswered as a bare http.Server.Shutdown does.
func TestDrainAnswersRequestsOfAcceptedConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &drainingListener{Listener: inner}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         ln.connState,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	conn, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitUntil(t, "the connection is accepted", func() bool { return ln.open.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- ln.drain(ctx, srv, served) }()
	waitUntil(t, "the listener is closed", func() bool {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request sent during the stop was not answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("response %s, close %v; want 200 and the connection closed after it", resp.Status, resp.Close)
	}
	if err := <-stopped; err != nil && !errors.Is(err, net.ErrClosed) {
		t.Errorf("drain: %v", err)
	}
	if n := ln.open.Load(); n != 0 {
		t.Errorf("%d connections still open after drain", n)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after drain: %v", err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
}
