package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a password-protected redis-server with an fsync-always
// append-only file, so Stop/Kill followed by Start loses no acknowledged
// write.
type RedisServer struct {
	Addr     string // 127.0.0.1:port; unchanged across Stop/Start
	Password string

	bin, confPath, logPath string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// Redis starts a redis-server in a temporary directory and stops it when the
// test ends.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	bin, ok := lookPath("redis-server")
	if !ok {
		missingBinary(t, "redis-server")
	}
	dir := t.TempDir()
	s := &RedisServer{
		Password: randomHex(16),
		bin:      bin,
		confPath: filepath.Join(dir, "redis.conf"),
		logPath:  filepath.Join(dir, "redis.log"),
	}
	port, err := startOnFreePort(func(port int) error {
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := s.writeConfig(dir, port); err != nil {
			return err
		}
		return s.Start()
	})
	if err != nil {
		t.Fatalf("testenv: start redis-server on port %d: %v", port, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("testenv: stop redis-server: %v", err)
		}
	})
	return s
}

// URL returns redis://:password@host:port/0.
func (s *RedisServer) URL() string {
	u := url.URL{Scheme: "redis", User: url.UserPassword("", s.Password), Host: s.Addr, Path: "/0"}
	return u.String()
}

// Start (re)starts the server on the same port and data directory and waits
// until it answers PING, which includes replaying the append-only file.
func (s *RedisServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return errors.New("redis-server is already running")
	}
	p, err := startProcess(procOptions{logPath: s.logPath}, s.bin, s.confPath)
	if err != nil {
		return err
	}
	if err := waitReady(p, s.ping); err != nil {
		return p.abort(err)
	}
	s.proc = p
	return nil
}

// ping sends AUTH and PING over a fresh connection. It dials itself and
// hands go-redis the connection: go-redis would retry and log every refused
// dial while the server is still starting, slowing and cluttering the wait.
func (s *RedisServer) ping(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	var used atomic.Bool
	client := redis.NewClient(&redis.Options{
		Addr:       s.Addr,
		Password:   s.Password,
		PoolSize:   1,
		MaxRetries: -1,
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			if used.Swap(true) {
				return nil, errors.New("probe connection already used")
			}
			return conn, nil
		},
	})
	defer client.Close()
	return client.Ping(ctx).Err()
}

// Stop shuts the server down gracefully (SIGTERM) and waits for it to exit.
// Stopping a stopped server is a no-op.
func (s *RedisServer) Stop() error { return s.signal(syscall.SIGTERM) }

// Kill ends the server abruptly (SIGKILL), simulating a crash, and waits
// for it to exit.
func (s *RedisServer) Kill() error { return s.signal(syscall.SIGKILL) }

func (s *RedisServer) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(sig)
	s.proc = nil
	if err != nil {
		return fmt.Errorf("%w\n--- redis-server log ---\n%s", err, readFile(s.logPath))
	}
	return nil
}

// writeConfig writes the server configuration. `appendfsync always` makes
// every acknowledged write durable, which restart tests rely on; RDB
// snapshots are off so the AOF is the single source of truth.
func (s *RedisServer) writeConfig(dir string, port int) error {
	conf := fmt.Sprintf(`bind 127.0.0.1
port %d
protected-mode yes
requirepass %s
dir %q
appendonly yes
appendfsync always
save ""
daemonize no
logfile ""
`, port, s.Password, dir)
	if err := os.WriteFile(s.confPath, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write redis.conf: %w", err)
	}
	return nil
}
