package testenv

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshTestUser is the unprivileged login user when tests run as root: deploy
// code must not be exercised against root logins it will not get in
// production. `make deps` creates it; SSHD creates it too if missing.
const sshTestUser = "airctl-test"

// SSHServer is an OpenSSH sshd accepting public-key logins for User.
type SSHServer struct {
	Addr           string // 127.0.0.1:port
	User           string // login user, never root
	ClientSigner   ssh.Signer
	ClientKeyPath  string // OpenSSH PEM private key of ClientSigner, mode 0600
	HostPublicKey  ssh.PublicKey
	KnownHostsPath string // known_hosts line for Addr and HostPublicKey

	proc *process
}

// SSHD starts /usr/sbin/sshd with a fresh ed25519 host key and a single
// authorized client key, and stops it when the test ends. As root, sshd runs
// as root (it needs to switch users) and the login user is airctl-test;
// otherwise both are the current user.
func SSHD(t testing.TB) *SSHServer {
	t.Helper()
	bin, ok := lookPath("/usr/sbin/sshd", "sshd")
	if !ok {
		missingBinary(t, "sshd (/usr/sbin/sshd, package openssh-server)")
	}
	s, dir, err := newSSHServer(t)
	if err != nil {
		t.Fatalf("testenv: sshd setup: %v", err)
	}
	port, err := startOnFreePort(func(port int) error {
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		return s.start(bin, dir, port)
	})
	if err != nil {
		t.Fatalf("testenv: start sshd on port %d: %v", port, err)
	}
	t.Cleanup(func() {
		if err := s.proc.stop(syscall.SIGTERM); err != nil {
			t.Errorf("testenv: stop sshd: %v", err)
		}
	})
	return s
}

// newSSHServer prepares the login user, keys and authorized_keys in a new
// directory that the login user can traverse (sshd reads authorized_keys
// with the login user's privileges).
func newSSHServer(t testing.TB) (*SSHServer, string, error) {
	login, err := sshLoginUser()
	if err != nil {
		return nil, "", err
	}
	dir := privateTempDir(t, "airctl-sshd-")
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("chmod %s: %w", dir, err)
	}
	hostKey, err := writeKey(filepath.Join(dir, "ssh_host_ed25519_key"))
	if err != nil {
		return nil, "", err
	}
	s := &SSHServer{User: login, HostPublicKey: hostKey.PublicKey(), ClientKeyPath: filepath.Join(dir, "client_ed25519")}
	if s.ClientSigner, err = writeKey(s.ClientKeyPath); err != nil {
		return nil, "", err
	}
	authorized := ssh.MarshalAuthorizedKey(s.ClientSigner.PublicKey())
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), authorized, 0o644); err != nil {
		return nil, "", fmt.Errorf("write authorized_keys: %w", err)
	}
	return s, dir, nil
}

// start writes known_hosts and sshd_config for port, launches sshd and waits
// for a successful SSH login.
func (s *SSHServer) start(bin, dir string, port int) error {
	s.KnownHostsPath = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostPublicKey) + "\n"
	if err := os.WriteFile(s.KnownHostsPath, []byte(line), 0o644); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(s.config(dir, port)), 0o644); err != nil {
		return fmt.Errorf("write sshd_config: %w", err)
	}
	if os.Geteuid() == 0 {
		// Privilege separation directory, normally created by systemd.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return fmt.Errorf("create /run/sshd: %w", err)
		}
	}
	p, err := startProcess(procOptions{logPath: filepath.Join(dir, "sshd.log"), dir: dir}, bin, "-D", "-e", "-f", confPath)
	if err != nil {
		return err
	}
	if err := waitReady(p, s.probe); err != nil {
		return p.abort(err)
	}
	s.proc = p
	return nil
}

// probe logs in once. Only a refused connection means "not listening yet";
// any other failure (host key, authentication) will not fix itself, so it
// ends the wait at once instead of after the deadline.
func (s *SSHServer) probe(ctx context.Context) error {
	client, err := s.dial(ctx)
	if err == nil {
		return client.Close()
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return permanentError{err}
}

// config renders sshd_config: key-only login for s.User, and every path
// inside dir so nothing touches the system sshd.
func (s *SSHServer) config(dir string, port int) string {
	return fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers %s
StrictModes no
UsePAM no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
`, port, filepath.Join(dir, "ssh_host_ed25519_key"), filepath.Join(dir, "sshd.pid"),
		filepath.Join(dir, "authorized_keys"), s.User)
}

// Run executes command over SSH, verifying the host against KnownHostsPath,
// and returns its stdout. Any failure, including a non-zero exit, is fatal.
func (s *SSHServer) Run(t testing.TB, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := s.dial(ctx)
	if err != nil {
		t.Fatalf("testenv: ssh %s@%s: %v", s.User, s.Addr, err)
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		t.Fatalf("testenv: ssh session: %v", err)
	}
	defer session.Close()
	var stdout, stderr bytes.Buffer
	session.Stdout, session.Stderr = &stdout, &stderr
	if err := session.Run(command); err != nil {
		t.Fatalf("testenv: ssh run %q: %v\nstdout: %s\nstderr: %s", command, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// dial connects and authenticates with ClientSigner, checking the host key
// against KnownHostsPath so the known_hosts file itself is exercised.
func (s *SSHServer) dial(ctx context.Context) (*ssh.Client, error) {
	hostKeys, err := knownhosts.New(s.KnownHostsPath)
	if err != nil {
		return nil, fmt.Errorf("load known_hosts: %w", err)
	}
	config := &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.ClientSigner)},
		HostKeyCallback: hostKeys,
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	// The SSH handshake takes no context; bound it with the deadline.
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, s.Addr, config)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh handshake: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// writeKey generates an ed25519 key, stores it in OpenSSH PEM format with
// mode 0600 (both sshd and ssh reject readable private keys) and returns
// its signer.
func writeKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return signer, nil
}

// sshLoginUser returns the user to log in as: the current user, or
// airctl-test when running as root.
func sshLoginUser() (string, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("current user: %w", err)
		}
		return u.Username, nil
	}
	if err := ensureTestUser(); err != nil {
		return "", err
	}
	return sshTestUser, nil
}

// userLockPath serialises ensureTestUser across test binaries: concurrent
// useradd runs were observed to all "succeed", each clobbering the others'
// /etc/passwd entry with a different uid.
const userLockPath = "/run/airctl-testenv-user.lock"

// ensureTestUser creates airctl-test if needed and makes sure its account is
// not locked, holding userLockPath. Each step is retried and judged by its
// outcome, so "already exists" (e.g. from `make deps`) and a busy passwd
// lock are tolerated.
func ensureTestUser() error {
	lock, err := os.OpenFile(userLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", userLockPath, err)
	}
	defer lock.Close() // closing releases the flock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", userLockPath, err)
	}
	return retry(func() error {
		if _, err := user.Lookup(sshTestUser); err != nil {
			// '*' = no usable password but not locked (see unlockTestUser).
			out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/bash",
				"--password", "*", sshTestUser).CombinedOutput()
			if _, lookErr := user.Lookup(sshTestUser); lookErr != nil {
				return fmt.Errorf("useradd %s: %w: %s", sshTestUser, err, out)
			}
		}
		return unlockTestUser()
	})
}

// unlockTestUser replaces a "!" (locked) shadow password with "*": with
// UsePAM no, sshd refuses even key logins to locked accounts, and plain
// `useradd` creates them locked.
func unlockTestUser() error {
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return fmt.Errorf("read /etc/shadow: %w", err)
	}
	for line := range strings.Lines(string(shadow)) {
		fields := strings.Split(line, ":")
		if len(fields) < 2 || fields[0] != sshTestUser || !strings.HasPrefix(fields[1], "!") {
			continue
		}
		if out, err := exec.Command("usermod", "--password", "*", sshTestUser).CombinedOutput(); err != nil {
			return fmt.Errorf("usermod %s: %w: %s", sshTestUser, err, out)
		}
	}
	return nil
}

// retry runs fn up to five times with a growing pause, for operations that
// contend on system-wide locks.
func retry(fn func() error) error {
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == 5 {
			return err
		}
		<-time.After(delay)
		delay *= 2
	}
}
