package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := Postgres(t)
	ctx := testContext(t)

	var one int
	queryRow(t, ctx, pg.DSN(), "SELECT 1", &one)
	if one != 1 {
		t.Fatalf("SELECT 1 = %d", one)
	}

	dsn := pg.CreateDatabase(t)
	if dsn == pg.CreateDatabase(t) {
		t.Fatal("CreateDatabase returned the same DSN twice")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to new database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v text); INSERT INTO t VALUES ('ok')"); err != nil {
		t.Fatalf("use new database: %v", err)
	}
	var db, v string
	if err := conn.QueryRow(ctx, "SELECT current_database(), v FROM t").Scan(&db, &v); err != nil {
		t.Fatalf("query new database: %v", err)
	}
	if !strings.Contains(dsn, "/"+db+"?") || v != "ok" {
		t.Fatalf("got database %q value %q for DSN %s", db, v, dsn)
	}
}

func queryRow(t *testing.T, ctx context.Context, dsn, sql string, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestRedisRestartKeepsData(t *testing.T) {
	t.Parallel()
	rs := Redis(t)
	ctx := testContext(t)
	opts, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatalf("parse %s: %v", rs.URL(), err)
	}
	client := redis.NewClient(opts)
	defer client.Close()

	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := rs.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if conn, err := net.Dial("tcp", rs.Addr); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Stop")
	}
	if err := rs.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got, err := client.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET after restart = %q, %v; want \"v\"", got, err)
	}

	// A crash must not lose acknowledged writes either (appendfsync always).
	if err := client.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := rs.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if err := rs.Start(); err != nil {
		t.Fatalf("Start after Kill: %v", err)
	}
	if got, err := client.Get(ctx, "k2").Result(); err != nil || got != "v2" {
		t.Fatalf("GET after crash = %q, %v; want \"v2\"", got, err)
	}
}

func TestRedisRequiresPassword(t *testing.T) {
	t.Parallel()
	rs := Redis(t)
	client := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer client.Close()
	if err := client.Ping(testContext(t)).Err(); err == nil {
		t.Fatal("PING without password succeeded")
	}
}

func TestSSHD(t *testing.T) {
	t.Parallel()
	sd := SSHD(t)
	if sd.User == "root" {
		t.Fatal("login user is root")
	}
	if got := strings.TrimSpace(sd.Run(t, "whoami")); got != sd.User {
		t.Fatalf("whoami = %q, want %q", got, sd.User)
	}
	if got := sd.Run(t, "echo hello"); got != "hello\n" {
		t.Fatalf("echo hello = %q", got)
	}
	info, err := os.Stat(sd.ClientKeyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("client key %s: mode %v, err %v; want 0600", sd.ClientKeyPath, info.Mode(), err)
	}
	if _, err := ssh.ParsePrivateKey(mustRead(t, sd.ClientKeyPath)); err != nil {
		t.Fatalf("parse client key: %v", err)
	}
	wantPrefix := "[127.0.0.1]:" + portOf(t, sd.Addr) + " ssh-ed25519 "
	if kh := string(mustRead(t, sd.KnownHostsPath)); !strings.HasPrefix(kh, wantPrefix) {
		t.Fatalf("known_hosts = %q, want prefix %q", kh, wantPrefix)
	}
}

func TestSSHDRejectsWrongHostKey(t *testing.T) {
	t.Parallel()
	sd := SSHD(t)
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(sd.Addr)}, other) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	callback, err := knownhosts.New(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", sd.Addr, &ssh.ClientConfig{
		User:            sd.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(sd.ClientSigner)},
		HostKeyCallback: callback,
		Timeout:         10 * time.Second,
	})
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) || len(keyErr.Want) == 0 {
		t.Fatalf("dial with wrong known host key: err = %v, want a knownhosts key mismatch", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// outcomeTB records how a helper ended the test; Skip and Fatal panic to
// stop the caller the way runtime.Goexit would.
type outcomeTB struct {
	testing.TB
	outcome, msg string
}

func (f *outcomeTB) Helper()                        {}
func (f *outcomeTB) Skip(args ...any)               { f.end("skip", fmt.Sprint(args...)) }
func (f *outcomeTB) Fatal(args ...any)              { f.end("fatal", fmt.Sprint(args...)) }
func (f *outcomeTB) Skipf(format string, a ...any)  { f.end("skip", fmt.Sprintf(format, a...)) }
func (f *outcomeTB) Fatalf(format string, a ...any) { f.end("fatal", fmt.Sprintf(format, a...)) }
func (f *outcomeTB) end(outcome, msg string)        { f.outcome, f.msg = outcome, msg; panic(f) }

// runHelper calls fn with an outcomeTB and returns how it ended.
func runHelper(t *testing.T, fn func(testing.TB)) (f *outcomeTB) {
	f = &outcomeTB{TB: t, outcome: "returned"}
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	fn(f)
	return f
}

func TestMissingBinary(t *testing.T) {
	missing := func(tb testing.TB) { missingBinary(tb, "no-such-binary") }
	t.Setenv("CI", "")
	if got := runHelper(t, missing).outcome; got != "skip" {
		t.Errorf("without CI: %s, want skip", got)
	}
	t.Setenv("CI", "true")
	if got := runHelper(t, missing).outcome; got != "fatal" {
		t.Errorf("with CI set: %s, want fatal", got)
	}
}

// TestFailedStartIsFatalWithLog uses a fake redis-server that dies at once:
// the helper must fail (not skip) promptly and show the server's output.
func TestFailedStartIsFatalWithLog(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'FATAL CONFIG FILE ERROR' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "redis-server"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	start := time.Now()
	f := runHelper(t, func(tb testing.TB) { Redis(tb) })
	if f.outcome != "fatal" || !strings.Contains(f.msg, "FATAL CONFIG FILE ERROR") {
		t.Fatalf("outcome %s, message %q; want fatal with the server log", f.outcome, f.msg)
	}
	if elapsed := time.Since(start); elapsed > readyTimeout/2 {
		t.Fatalf("failure reported after %s", elapsed)
	}
}
