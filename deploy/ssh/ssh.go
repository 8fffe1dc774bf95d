// Package ssh is airctl's transport to deploy hosts: one verified SSH
// connection per host (golang.org/x/crypto/ssh), reused for every command,
// an SFTP session and TCP tunnels, kept alive and watched so that a dead
// link fails the deploy promptly instead of hanging it.
//
// Host keys are always checked against a known_hosts file. An unknown key
// is refused with its fingerprint and the commands that trust it; recording
// it automatically happens only with Config.TrustOnFirstUse, an explicit
// opt-in. A changed key is refused whatever the options say.
package ssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/pkg/sftp"
)

// Defaults for Config's zero values.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultKeepAlive    = 15 * time.Second
	DefaultKeepAliveMax = 3
)

// Config says where to connect and how to trust the host and prove who we
// are.
type Config struct {
	Addr string // host or host:port (port 22 when omitted)
	User string
	Auth Auth
	// KnownHostsFile is the known_hosts file to verify against (and to
	// record into with TrustOnFirstUse); default ~/.ssh/known_hosts.
	KnownHostsFile string
	// TrustOnFirstUse records the key of a host that has no entry yet,
	// logging that it did. It never accepts a key that differs from a
	// recorded one.
	TrustOnFirstUse bool
	// Timeout bounds the TCP connect plus the SSH handshake.
	Timeout time.Duration
	// KeepAlive is the interval between keepalive@openssh.com requests;
	// negative disables them. After KeepAliveMax intervals without an
	// answer the connection is declared dead and closed.
	KeepAlive    time.Duration
	KeepAliveMax int
	Logger       *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" || c.User == "" {
		return c, errors.New("ssh: Addr and User are required")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		c.Addr = net.JoinHostPort(c.Addr, "22")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.KeepAliveMax <= 0 {
		c.KeepAliveMax = DefaultKeepAliveMax
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.KnownHostsFile == "" {
		path, err := defaultKnownHosts()
		if err != nil {
			return c, err
		}
		c.KnownHostsFile = path
	}
	return c, nil
}

// Client is an authenticated connection to one host. It is safe for
// concurrent use; Close it when done.
type Client struct {
	cfg  Config
	conn *gossh.Client

	sftpMu sync.Mutex
	sftp   *sftp.Client

	done     chan struct{} // closed when the connection is gone
	doneOnce sync.Once
	errMu    sync.Mutex
	err      error // why the connection ended
}

// Dial connects, verifies the host key and authenticates. The returned
// client sends keepalives until closed.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	auth, err := cfg.Auth.methods()
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s: %w", cfg.User, cfg.Addr, err)
	}
	defer auth.close()
	verifier, err := newHostVerifier(cfg)
	if err != nil {
		return nil, err
	}
	conn, err := handshake(ctx, cfg, &gossh.ClientConfig{
		User:              cfg.User,
		Auth:              auth.methods,
		HostKeyCallback:   verifier.check,
		HostKeyAlgorithms: verifier.algorithms(cfg.Addr),
	})
	if err != nil {
		// The verifier's own error says what to do; the library's wrapping
		// ("ssh: handshake failed: ...") only adds noise to it.
		if hkErr := verifier.failure(); hkErr != nil {
			return nil, hkErr
		}
		return nil, fmt.Errorf("ssh %s@%s: %w", cfg.User, cfg.Addr, err)
	}
	c := &Client{cfg: cfg, conn: conn, done: make(chan struct{})}
	go c.watch()
	if cfg.KeepAlive > 0 {
		go c.keepalive(cfg.KeepAlive, cfg.KeepAliveMax)
	}
	return c, nil
}

// handshake dials TCP and runs the SSH handshake, both bounded by
// cfg.Timeout and ctx: the library's handshake takes no context, so a
// cancelled ctx closes the socket under it.
func handshake(ctx context.Context, cfg Config, cc *gossh.ClientConfig) (*gossh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var d net.Dialer
	tcp, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w (is the host up and port %s open to you?)", err, portOf(cfg.Addr))
	}
	stop := context.AfterFunc(ctx, func() { _ = tcp.Close() })
	sc, chans, reqs, err := gossh.NewClientConn(tcp, cfg.Addr, cc)
	if stopped := stop(); !stopped || err != nil {
		if err == nil {
			_ = sc.Close()
		}
		_ = tcp.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("handshake: %w (%v)", ctxErr, err)
		}
		return nil, err
	}
	return gossh.NewClient(sc, chans, reqs), nil
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// Addr is the host:port this client is connected to.
func (c *Client) Addr() string { return c.cfg.Addr }

// Done is closed once the connection has ended (Close, network failure,
// missed keepalives); Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is nil while the connection is up, ErrClosed after Close, and the
// cause otherwise.
func (c *Client) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// ErrClosed is Err after Close.
var ErrClosed = errors.New("ssh: connection closed")

// ErrConnectionLost wraps the cause of a connection that ended on its own.
var ErrConnectionLost = errors.New("ssh: connection lost")

// Close ends the SFTP session and the connection.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail records why the connection ends (first cause wins) and tears it
// down, which makes every pending call on it return.
func (c *Client) fail(cause error) {
	c.doneOnce.Do(func() {
		c.errMu.Lock()
		c.err = cause
		c.errMu.Unlock()
		// The connection first: that unblocks anything stuck on it,
		// including an SFTP start holding sftpMu.
		_ = c.conn.Close()
		close(c.done)
		c.sftpMu.Lock()
		if c.sftp != nil {
			_ = c.sftp.Close()
		}
		c.sftpMu.Unlock()
	})
}

// watch notices the transport ending by itself (reset, EOF).
func (c *Client) watch() {
	err := c.conn.Wait()
	if err == nil {
		err = errors.New("closed by the remote side")
	}
	c.fail(fmt.Errorf("%w to %s: %w", ErrConnectionLost, c.cfg.Addr, err))
}

// DialContext opens a TCP connection from the host to addr through the SSH
// connection (a direct-tcpip channel), so a service listening on the host's
// loopback is reachable without opening a port.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.conn.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh tunnel to %s on %s: %w (sshd needs AllowTcpForwarding yes or local)", addr, c.cfg.Addr, c.wrapErr(err))
	}
	return conn, nil
}

// explainWait bounds how long Explain waits for a connection's fate.
const explainWait = 2 * time.Second

// Explain returns err with the connection's cause if the connection is
// dead or dies within a moment: an SFTP write on a dying connection often
// fails just before the transport reports why, and "connection lost" is
// what the user needs to read. For a live connection it returns err.
func (c *Client) Explain(err error) error {
	if err == nil {
		return nil
	}
	t := time.NewTimer(explainWait)
	defer t.Stop()
	select {
	case <-c.done:
		return fmt.Errorf("%w (%w)", c.Err(), err)
	case <-t.C:
		return err
	}
}

// wrapErr prefers the recorded cause of a dead connection over the
// library's generic EOF.
func (c *Client) wrapErr(err error) error {
	if cause := c.Err(); cause != nil {
		return fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}
