package ssh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/airctl/airctl/deploy/internal/sshtest"
	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/internal/testenv"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func config(srv *testenv.SSHServer) ssh.Config {
	return ssh.Config{
		Addr:           srv.Addr,
		User:           srv.User,
		Auth:           ssh.Auth{KeyFile: srv.ClientKeyPath},
		KnownHostsFile: srv.KnownHostsPath,
	}
}

func dial(t *testing.T, cfg ssh.Config) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRunReportsOutputAndExitCode(t *testing.T) {
	srv := testenv.SSHD(t)
	c := dial(t, config(srv))
	ctx := testCtx(t)
	res, err := c.Run(ctx, "echo out; echo err >&2; exit 3")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
		t.Fatalf("Run = %q, %q, %d; want out, err, 3", res.Stdout, res.Stderr, res.ExitCode)
	}
	_, err = c.Output(ctx, "echo oops >&2; exit 2")
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.Code != 2 || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("Output error = %v; want an ExitError with code 2 and stderr", err)
	}
	// Many commands over the one connection, concurrently.
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			out, err := c.Output(ctx, fmt.Sprintf("echo %d", i))
			if err == nil && strings.TrimSpace(string(out)) != fmt.Sprint(i) {
				err = fmt.Errorf("got %q", out)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuoteRoundTrips(t *testing.T) {
	srv := testenv.SSHD(t)
	c := dial(t, config(srv))
	args := []string{"plain", "", "with space", "it's", `"dq"`, "$HOME", "`id`", "a\nb", "*", "-n", "x;rm -rf /"}
	out, err := c.Output(testCtx(t), "printf '%s\\0' "+ssh.Join(args...))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if strings.Join(got, "|") != strings.Join(args, "|") {
		t.Fatalf("round trip:\n got %q\nwant %q", got, args)
	}
}

func TestRunCancelKillsRemoteCommand(t *testing.T) {
	srv := testenv.SSHD(t)
	c := dial(t, config(srv))
	// A unique duration names the remote process for pgrep.
	marker := fmt.Sprintf("%d.%06d", 3000+time.Now().Unix()%1000, time.Now().Nanosecond()/1000)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, "exec sleep "+marker)
		done <- err
	}()
	waitFor(t, func() bool { return remoteHas(t, c, marker) })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v; want context.Canceled", err)
	}
	waitFor(t, func() bool { return !remoteHas(t, c, marker) })
}

func remoteHas(t *testing.T, c *ssh.Client, marker string) bool {
	res, err := c.Run(testCtx(t), "pgrep -f "+ssh.Quote("sleep "+marker))
	if err != nil {
		t.Fatal(err)
	}
	return res.ExitCode == 0
}

// waitFor polls a condition the test cannot be told about (a remote
// process appearing or going), bounded by a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnknownHostRefusedWithFingerprint(t *testing.T) {
	srv := testenv.SSHD(t)
	cfg := config(srv)
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts") // does not exist
	_, err := ssh.Dial(testCtx(t), cfg)
	if !errors.Is(err, ssh.ErrUnknownHost) {
		t.Fatalf("Dial = %v; want ErrUnknownHost", err)
	}
	fp := gossh.FingerprintSHA256(srv.HostPublicKey)
	for _, want := range []string{fp, "ssh-keyscan -p", "--trust-on-first-use", cfg.KnownHostsFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, statErr := os.Stat(cfg.KnownHostsFile); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("refusing must not write known_hosts (stat: %v)", statErr)
	}
}

func TestTrustOnFirstUseRecordsKey(t *testing.T) {
	srv := testenv.SSHD(t)
	cfg := config(srv)
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "ssh", "known_hosts")
	cfg.TrustOnFirstUse = true
	dial(t, cfg)
	data, err := os.ReadFile(cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, srv.HostPublicKey) + "\n"
	if string(data) != want {
		t.Fatalf("known_hosts = %q; want %q", data, want)
	}
	// Now known: a strict dial works, and TOFU does not add it twice.
	cfg.TrustOnFirstUse = false
	dial(t, cfg)
	cfg.TrustOnFirstUse = true
	dial(t, cfg)
	if again, _ := os.ReadFile(cfg.KnownHostsFile); string(again) != want {
		t.Fatalf("known_hosts after redial = %q", again)
	}
}

func TestChangedHostKeyRefusedEvenWithTOFU(t *testing.T) {
	srv := testenv.SSHD(t)
	cfg := config(srv)
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := gossh.NewPublicKey(other.Public())
	line := knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, otherKey) + "\n"
	if err := os.WriteFile(cfg.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tofu := range []bool{false, true} {
		cfg.TrustOnFirstUse = tofu
		_, err := ssh.Dial(testCtx(t), cfg)
		if !errors.Is(err, ssh.ErrHostKeyChanged) {
			t.Fatalf("tofu=%v: Dial = %v; want ErrHostKeyChanged", tofu, err)
		}
		for _, want := range []string{gossh.FingerprintSHA256(srv.HostPublicKey), gossh.FingerprintSHA256(otherKey), "man-in-the-middle", "ssh-keygen -R"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	}
	if data, _ := os.ReadFile(cfg.KnownHostsFile); string(data) != line {
		t.Fatalf("known_hosts was modified: %q", data)
	}
}

func TestHashedKnownHostsEntry(t *testing.T) {
	srv := testenv.SSHD(t)
	cfg := config(srv)
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(srv.Addr))}, srv.HostPublicKey) + "\n"
	if err := os.WriteFile(cfg.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	dial(t, cfg)
}

func TestAuthFromEnvAndAgent(t *testing.T) {
	srv := testenv.SSHD(t)
	pem, err := os.ReadFile(srv.ClientKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AIRCTL_TEST_SSH_KEY", string(pem))
	cfg := config(srv)
	cfg.Auth = ssh.Auth{KeyEnv: "AIRCTL_TEST_SSH_KEY"}
	dial(t, cfg)

	cfg.Auth = ssh.Auth{KeyEnv: "AIRCTL_TEST_SSH_KEY_UNSET"}
	if _, err := ssh.Dial(testCtx(t), cfg); err == nil || !strings.Contains(err.Error(), "AIRCTL_TEST_SSH_KEY_UNSET") {
		t.Fatalf("Dial with unset key variable = %v; want an error naming it", err)
	}

	raw, err := gossh.ParseRawPrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_AUTH_SOCK", serveAgent(t, keyring))
	cfg.Auth = ssh.Auth{Agent: true}
	dial(t, cfg)
}

func serveAgent(t *testing.T, keyring agent.Agent) string {
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	return sock
}

func TestSFTPSessionIsShared(t *testing.T) {
	srv := testenv.SSHD(t)
	c := dial(t, config(srv))
	a, err := c.SFTP()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SFTP()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("SFTP opened a second session")
	}
	wd, err := a.Getwd()
	if err != nil || wd == "" {
		t.Fatalf("Getwd = %q, %v", wd, err)
	}
}

func TestTunnelReachesHostLoopback(t *testing.T) {
	srv := testenv.SSHD(t)
	c := dial(t, config(srv))
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") }))
	t.Cleanup(web.Close)
	client := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	resp, err := client.Get(web.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); string(body) != "hi" {
		t.Fatalf("body %q", body)
	}
}

func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	srv := testenv.SSHD(t)
	proxy := sshtest.NewProxy(t, srv.Addr)
	cfg := config(srv)
	cfg.Addr = proxy.Addr
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(proxy.Addr)}, srv.HostPublicKey) + "\n"
	if err := os.WriteFile(cfg.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.KeepAlive, cfg.KeepAliveMax = 50*time.Millisecond, 2
	c := dial(t, cfg)
	if _, err := c.Output(testCtx(t), "true"); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("dead connection not detected")
	}
	if !errors.Is(c.Err(), ssh.ErrConnectionLost) || !strings.Contains(c.Err().Error(), "keepalive") {
		t.Fatalf("Err = %v; want ErrConnectionLost from keepalives", c.Err())
	}
	if _, err := c.Run(testCtx(t), "true"); err == nil || !errors.Is(err, ssh.ErrConnectionLost) {
		t.Fatalf("Run on a dead connection = %v; want ErrConnectionLost", err)
	}
}

func TestConnectionDropIsReported(t *testing.T) {
	srv := testenv.SSHD(t)
	proxy := sshtest.NewProxy(t, srv.Addr)
	cfg := config(srv)
	cfg.Addr = proxy.Addr
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	cfg.TrustOnFirstUse = true
	c := dial(t, cfg)
	proxy.Cut()
	<-c.Done()
	if !errors.Is(c.Err(), ssh.ErrConnectionLost) {
		t.Fatalf("Err = %v; want ErrConnectionLost", c.Err())
	}
}
