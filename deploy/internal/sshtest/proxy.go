// Package sshtest has test helpers for the deploy packages: a TCP proxy in
// front of a test sshd that can cut or freeze the connections through it,
// to simulate a dropped link or a peer that vanished without a FIN.
package sshtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from Addr to a target.
type Proxy struct {
	Addr string

	target string
	ln     net.Listener
	frozen atomic.Bool
	stop   chan struct{} // closed on Close: releases frozen pumps

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// NewProxy listens on a free loopback port and forwards to target until
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(server, client)
		go p.pump(client, server)
	}
}

// pump copies src to dst; while frozen it holds what it read, as a dead
// peer would, instead of passing it on.
func (p *Proxy) pump(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.frozen.Load() {
			<-p.stop
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = src.Close()
			}
			return
		}
	}
}

// Cut closes every connection made so far (new ones still go through): a
// dropped link.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// Freeze stops forwarding on all connections without closing them: the
// peer has vanished, and only keepalives can tell.
func (p *Proxy) Freeze() { p.frozen.Store(true) }

// Close stops the proxy and all its connections.
func (p *Proxy) Close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
