package render

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisSnippetInRealRedis runs redis-server with the rendered snippet
// included last from a Debian-like redis.conf, as the deployer installs it:
// the snippet must override Debian's settings, and the password set as a
// SHA-256 must work like requirepass (AUTH with the plain password).
func TestRedisSnippetInRealRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not found and CI is set")
		}
		t.Skip("redis-server not found; run `make deps`")
	}
	s := testSettings()
	s.RedisPort = freePort(t)
	dir := t.TempDir()
	snippet := filepath.Join(dir, "aird.conf")
	if err := os.WriteFile(snippet, byPath(t, mustRender(t, s, nil), s.RedisConfPath).Content, 0o600); err != nil {
		t.Fatal(err)
	}
	// Debian's defaults that the snippet must override, then the include.
	base := fmt.Sprintf("port 6379\nbind 127.0.0.1\nappendonly no\nsave \"\"\ndir %s\ndaemonize no\nlogfile \"\"\ninclude %s\n", dir, snippet)
	if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	// Output to a file, not a buffer: read on failure while redis-server
	// may still write, a buffer would race.
	logPath := filepath.Join(dir, "redis.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	cmd := exec.Command(bin, filepath.Join(dir, "redis.conf"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := s.RedisAddress()
	waitListening(t, addr, log)

	ctx := context.Background()
	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without password: %v, want NOAUTH", err)
	}
	wrong := redis.NewClient(&redis.Options{Addr: addr, Password: "wrong", MaxRetries: -1})
	defer wrong.Close()
	if err := wrong.Ping(ctx).Err(); err == nil {
		t.Error("PING with a wrong password succeeded")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, Password: s.RedisPassword.Reveal(), DB: s.ResultDB, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING with the password: %v\n%s", err, log())
	}
	for key, want := range map[string]string{
		"appendonly": "yes", "appendfsync": "everysec", "save": "3600 1 300 100 60 10000",
		"bind": "127.0.0.1 -::1", "protected-mode": "yes", "port": strconv.Itoa(s.RedisPort),
	} {
		got, err := c.ConfigGet(ctx, key).Result()
		if err != nil || got[key] != want {
			t.Errorf("CONFIG GET %s = %q (%v), want %q", key, got[key], err, want)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits for a TCP listener, dialling directly so that
// go-redis does not log every refused attempt.
func waitListening(t *testing.T, addr string, log func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v\n%s", addr, err, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
