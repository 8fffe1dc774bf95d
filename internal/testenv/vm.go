package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// The Debian 12 VM comes from ../shared/vm (make-vm.sh builds the image,
// boot-vm.sh starts a guest from it); `make vm` runs make-vm.sh. These
// variables, set by the Makefile, say where both live.
const (
	vmDirEnv      = "AIRCTL_VM_DIR"       // image cache (make-vm.sh's VM_DIR)
	vmScriptsEnv  = "AIRCTL_VM_SCRIPTS"   // directory of make-vm.sh and boot-vm.sh
	e2eRequireEnv = "AIRCTL_E2E_REQUIRED" // "1": a missing VM fails instead of skipping
	defaultVMDir  = "/var/cache/airctl-vm"
	vmBootTimeout = 6 * time.Minute // a cold boot is ~25 s, but two cores are shared
	vmDialTimeout = 60 * time.Second
	consoleTail   = 80 // console.log lines printed when a test fails
	journalLines  = 80 // journal lines printed per failed unit
)

// VMServer is a Debian 12 guest with systemd as PID 1, booted by
// boot-vm.sh under qemu: sshd on Addr (user deploy, sudo without password),
// Redis installed, no network except the forwarded ports.
type VMServer struct {
	Addr           string // 127.0.0.1:port forwarded to the guest's :22
	Port           int
	User           string // "deploy"
	KeyPath        string // private key that logs in as User
	KnownHostsPath string // the guest's host key pinned for Addr
	RunDir         string // VM_RUN_DIR: console.log, qemu.pid
	Boot           string // "warm" (restored snapshot) or "cold"
	// Forwards maps a guest TCP port to the 127.0.0.1 port forwarding to
	// it, for the ports asked of VM.
	Forwards map[int]int

	signer   ssh.Signer
	hostKeys ssh.HostKeyCallback

	mu     sync.Mutex
	client *ssh.Client // shared by Output; redialled when it breaks
}

// VM boots a guest and stops it when the test ends, whatever the outcome:
// the stop is registered in t.Cleanup, which runs after a failure or a
// panic too, and a watcher process stops it if the test binary is killed.
// guestPorts are forwarded from free loopback ports (see Forwards). When
// the test has failed, the guest's console log and the journal of its
// failed units are logged before the stop.
//
// The image is built by `make vm`. Without it the test is skipped, or
// fails when AIRCTL_E2E_REQUIRED=1 (make e2e sets it).
func VM(t testing.TB, guestPorts ...int) *VMServer {
	t.Helper()
	scripts, dir := vmScriptsDir(), vmDir()
	boot := filepath.Join(scripts, "boot-vm.sh")
	for _, f := range []string{boot, filepath.Join(dir, "disk.img"), filepath.Join(dir, "id_ed25519")} {
		if _, err := os.Stat(f); err != nil {
			msg := fmt.Sprintf("testenv: VM image not ready (%v): run `make vm` (or set %s/%s)", err, vmDirEnv, vmScriptsEnv)
			if os.Getenv(e2eRequireEnv) == "1" {
				t.Fatal(msg + "; " + e2eRequireEnv + "=1, so a missing VM is an error")
			}
			t.Skip(msg)
		}
	}
	v, err := bootVM(t, boot, dir, guestPorts)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			v.dumpDiagnostics(t)
		}
		v.closeClient()
	})
	return v
}

// vmDir is where make-vm.sh keeps the image.
func vmDir() string {
	if d := os.Getenv(vmDirEnv); d != "" {
		return d
	}
	return defaultVMDir
}

// vmScriptsDir is $AIRCTL_VM_SCRIPTS, else ../shared/vm next to the module
// root (found from the working directory, the package under test).
func vmScriptsDir() string {
	if d := os.Getenv(vmScriptsEnv); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "vm")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "vm")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "..", "shared", "vm")
		}
	}
}

// bootVM runs boot-vm.sh with the forwards and registers the stop.
func bootVM(t testing.TB, boot, dir string, guestPorts []int) (*VMServer, error) {
	v := &VMServer{Forwards: map[int]int{}}
	var fwd strings.Builder
	for _, gp := range guestPorts {
		hp, err := freePort()
		if err != nil {
			return nil, err
		}
		v.Forwards[gp] = hp
		fmt.Fprintf(&fwd, ",hostfwd=tcp:127.0.0.1:%d-:%d", hp, gp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), vmBootTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, boot)
	cmd.Env = append(os.Environ(), "VM_DIR="+dir, "VM_HOSTFWD="+fwd.String(),
		"VM_BOOT_TIMEOUT="+strconv.Itoa(int(vmBootTimeout/time.Second)-30))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("boot-vm.sh: %w\n%s", err, stderr.String())
	}
	vars := parseVMVars(out)
	v.RunDir = vars["VM_RUN_DIR"]
	if v.RunDir == "" {
		return nil, fmt.Errorf("boot-vm.sh printed no VM_RUN_DIR:\n%s\n%s", out, stderr.String())
	}
	// Registered before anything else can fail: the guest must not outlive
	// the test.
	stopped := v.watchAndStop(t, boot, dir)
	t.Cleanup(stopped)
	if err := v.fill(vars); err != nil {
		return nil, err
	}
	t.Logf("testenv: VM %s booted (%s) in %s, ssh %s, forwards %v", vars["VM_PID"], v.Boot, time.Since(start).Round(time.Millisecond), v.Addr, v.Forwards)
	return v, nil
}

// watchAndStop starts a watcher that stops the guest should the test
// binary die without running its cleanups (qemu daemonizes, so nothing
// else would): it blocks reading a pipe only this process holds open, and
// its end of file means the test process is gone. It returns the cleanup
// that stops the guest normally.
func (v *VMServer) watchAndStop(t testing.TB, boot, dir string) func() {
	watcher := exec.Command("sh", "-c", `read -r _; exec "$0" stop "$1"`, boot, v.RunDir)
	watcher.Env = append(os.Environ(), "VM_DIR="+dir)
	stdin, err := watcher.StdinPipe()
	if err == nil {
		err = watcher.Start()
	}
	if err != nil {
		t.Logf("testenv: VM watcher not started (%v): a killed test would leave qemu running", err)
		watcher = nil
	}
	return func() {
		if watcher != nil {
			_ = watcher.Process.Kill()
			_ = watcher.Wait()
			_ = stdin.Close()
		}
		stop := exec.Command(boot, "stop", v.RunDir)
		stop.Env = append(os.Environ(), "VM_DIR="+dir)
		if out, err := stop.CombinedOutput(); err != nil {
			t.Errorf("testenv: boot-vm.sh stop %s: %v\n%s", v.RunDir, err, out)
		}
	}
}

// parseVMVars reads boot-vm.sh's KEY=VALUE lines.
func parseVMVars(out []byte) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && strings.HasPrefix(k, "VM_") {
			vars[k] = val
		}
	}
	return vars
}

// fill takes the connection details from boot-vm.sh's variables.
func (v *VMServer) fill(vars map[string]string) error {
	port, err := strconv.Atoi(vars["VM_SSH_PORT"])
	if err != nil {
		return fmt.Errorf("boot-vm.sh: VM_SSH_PORT %q: %w", vars["VM_SSH_PORT"], err)
	}
	v.Port, v.Addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	v.User, v.KeyPath, v.KnownHostsPath, v.Boot = vars["VM_SSH_USER"], vars["VM_SSH_KEY"], vars["VM_KNOWN_HOSTS"], vars["VM_BOOT"]
	key, err := os.ReadFile(v.KeyPath)
	if err != nil {
		return fmt.Errorf("read the VM's key: %w", err)
	}
	if v.signer, err = ssh.ParsePrivateKey(key); err != nil {
		return fmt.Errorf("parse the VM's key %s: %w", v.KeyPath, err)
	}
	if v.hostKeys, err = knownhosts.New(v.KnownHostsPath); err != nil {
		return fmt.Errorf("read the VM's known_hosts: %w", err)
	}
	return nil
}

// Dial opens a new SSH connection to the guest, verifying its host key.
// It retries refused or reset connections until ctx ends, so it also waits
// for a rebooting guest.
func (v *VMServer) Dial(ctx context.Context) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		User: v.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(v.signer)},
		HostKeyCallback: v.hostKeys, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout: vmDialTimeout,
	}
	for {
		c, err := v.dialOnce(ctx, cfg)
		if err == nil {
			return c, nil
		}
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) {
			return nil, err // a wrong host key does not fix itself
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh %s: %w (last error: %w)", v.Addr, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func (v *VMServer) dialOnce(ctx context.Context, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", v.Addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(vmDialTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline) // the handshake takes no context
	c, chans, reqs, err := ssh.NewClientConn(conn, v.Addr, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", v.Addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// Output runs a shell command in the guest as User over a shared
// connection (a new one costs a second of emulated key exchange) and
// returns its stdout; a non-zero exit is an error carrying stderr.
func (v *VMServer) Output(ctx context.Context, cmd string) (string, error) {
	c, err := v.sharedClient(ctx)
	if err != nil {
		return "", err
	}
	out, err := run(ctx, c, cmd)
	if err != nil && isConnectionError(err) {
		v.dropClient(c)
	}
	return out, err
}

func (v *VMServer) sharedClient(ctx context.Context) (*ssh.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.client != nil {
		return v.client, nil
	}
	c, err := v.Dial(ctx)
	if err != nil {
		return nil, err
	}
	v.client = c
	return c, nil
}

// dropClient forgets a broken shared connection (a reboot ends it), so
// the next Output dials again.
func (v *VMServer) dropClient(c *ssh.Client) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.client == c {
		_ = c.Close()
		v.client = nil
	}
}

func (v *VMServer) closeClient() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.client != nil {
		_ = v.client.Close()
		v.client = nil
	}
}

// isConnectionError tells a dead connection from a command that failed.
func isConnectionError(err error) bool {
	var exit *ssh.ExitError
	return !errors.As(err, &exit)
}

// run executes cmd in a new session, ending it when ctx does.
func run(ctx context.Context, c *ssh.Client, cmd string) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh session: %w", err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Close()
		return stdout.String(), fmt.Errorf("%s: %w", cmd, ctx.Err())
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", cmd, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// dumpDiagnostics logs the tail of the console log and the journal of
// every failed or restarting unit, so a failed test says why.
func (v *VMServer) dumpDiagnostics(t testing.TB) {
	if b, err := os.ReadFile(filepath.Join(v.RunDir, "console.log")); err == nil {
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		t.Logf("testenv: VM console log (last %d lines):\n%s", consoleTail, strings.Join(lines[max(0, len(lines)-consoleTail):], "\n"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	units, err := v.Output(ctx, "systemctl list-units --all --no-legend --plain --state=failed,activating,auto-restart,deactivating | cut -d' ' -f1")
	if err != nil {
		t.Logf("testenv: VM unit states unavailable: %v", err)
		return
	}
	for _, u := range strings.Fields(units) {
		out, err := v.Output(ctx, fmt.Sprintf("sudo -n journalctl --no-pager -o short-precise -n %d -u %s; systemctl status --no-pager %s", journalLines, u, u))
		t.Logf("testenv: VM journal of %s:\n%s%s", u, out, errOrEmpty(err))
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
