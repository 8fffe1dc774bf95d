package ssh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinels for errors.Is on a *HostKeyError.
var (
	ErrUnknownHost    = errors.New("ssh: unknown host key")
	ErrHostKeyChanged = errors.New("ssh: host key changed")
	ErrHostKeyRevoked = errors.New("ssh: host key revoked")
)

// HostKeyError is a refused host key. Its message carries the key's SHA256
// fingerprint and what the user can do about it.
type HostKeyError struct {
	Kind  error // ErrUnknownHost, ErrHostKeyChanged or ErrHostKeyRevoked
	Addr  string
	Key   gossh.PublicKey
	File  string
	Known []knownhosts.KnownKey // the recorded keys, for a changed host
}

func (e *HostKeyError) Is(target error) bool { return target == e.Kind }

func (e *HostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	got := describeKey(e.Key)
	switch e.Kind {
	case ErrHostKeyChanged:
		var known []string
		for _, k := range e.Known {
			known = append(known, fmt.Sprintf("%s:%d has %s", k.Filename, k.Line, describeKey(k.Key)))
		}
		return fmt.Sprintf("ssh: HOST KEY CHANGED for %s: it presented %s, but %s. "+
			"Someone may be intercepting the connection (man-in-the-middle), or the host was rebuilt; refusing to connect. "+
			"If you know the change is legitimate, remove the old entry (ssh-keygen -R %s -f %s), check the new fingerprint against the host, and trust it",
			e.Addr, got, strings.Join(known, "; "), shellQuote(knownhosts.Normalize(e.Addr)), shellQuote(e.File))
	case ErrHostKeyRevoked:
		return fmt.Sprintf("ssh: host %s presented %s, which %s marks @revoked; refusing to connect", e.Addr, got, e.File)
	default:
		return fmt.Sprintf("ssh: host %s is not in %s; it presented %s. "+
			"Check that fingerprint against the host itself (e.g. the VM's serial console), then trust it with "+
			"`ssh-keyscan -p %s -t %s %s >> %s`, or rerun with --trust-on-first-use to record it",
			e.Addr, e.File, got, port, keyscanType(e.Key), host, shellQuote(e.File))
	}
}

func describeKey(k gossh.PublicKey) string {
	return fmt.Sprintf("%s key %s", strings.ToUpper(keyscanType(k)), gossh.FingerprintSHA256(k))
}

// keyscanType is ssh-keyscan's -t name for a key.
func keyscanType(k gossh.PublicKey) string {
	switch t := k.Type(); {
	case t == gossh.KeyAlgoRSA:
		return "rsa"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ecdsa"
	default:
		return strings.TrimPrefix(t, "ssh-")
	}
}

// recordMu serialises trust-on-first-use writes within the process: hosts
// are dialled in parallel and may share one known_hosts file.
var recordMu sync.Mutex

// hostVerifier checks one handshake's host key and remembers a refusal so
// Dial can return it unwrapped.
type hostVerifier struct {
	cfg Config
	db  gossh.HostKeyCallback

	mu  sync.Mutex
	err error
}

func newHostVerifier(cfg Config) (*hostVerifier, error) {
	db, err := loadKnownHosts(cfg.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	return &hostVerifier{cfg: cfg, db: db}, nil
}

// loadKnownHosts treats a missing file as empty, so the user hears "host
// unknown, here is how to trust it" rather than "no such file".
func loadKnownHosts(path string) (gossh.HostKeyCallback, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		path = os.DevNull
	}
	db, err := knownhosts.New(path)
	if err != nil {
		return nil, fmt.Errorf("ssh: known_hosts %s: %w (fix or remove the offending line)", path, err)
	}
	return db, nil
}

func (v *hostVerifier) failure() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

func (v *hostVerifier) check(hostname string, remote net.Addr, key gossh.PublicKey) error {
	err := v.verify(hostname, remote, key)
	if err != nil {
		v.mu.Lock()
		v.err = err
		v.mu.Unlock()
	}
	return err
}

func (v *hostVerifier) verify(hostname string, remote net.Addr, key gossh.PublicKey) error {
	err := classify(v.db(hostname, remote, key), v.cfg, key)
	if !errors.Is(err, ErrUnknownHost) || !v.cfg.TrustOnFirstUse {
		return err
	}
	return v.record(hostname, remote, key)
}

// classify turns knownhosts' verdict into a HostKeyError.
func classify(err error, cfg Config, key gossh.PublicKey) error {
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &revoked):
		return &HostKeyError{Kind: ErrHostKeyRevoked, Addr: cfg.Addr, Key: key, File: cfg.KnownHostsFile}
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return &HostKeyError{Kind: ErrUnknownHost, Addr: cfg.Addr, Key: key, File: cfg.KnownHostsFile}
	case errors.As(err, &keyErr):
		return &HostKeyError{Kind: ErrHostKeyChanged, Addr: cfg.Addr, Key: key, File: cfg.KnownHostsFile, Known: keyErr.Want}
	default:
		return fmt.Errorf("ssh: checking host key of %s: %w", cfg.Addr, err)
	}
}

// record appends the key for hostname to the known_hosts file, after
// re-reading it under the lock: a parallel dial may have recorded this host
// meanwhile, possibly with a different key, which must then be refused.
func (v *hostVerifier) record(hostname string, remote net.Addr, key gossh.PublicKey) error {
	recordMu.Lock()
	defer recordMu.Unlock()
	db, err := loadKnownHosts(v.cfg.KnownHostsFile)
	if err != nil {
		return err
	}
	if err := classify(db(hostname, remote, key), v.cfg, key); !errors.Is(err, ErrUnknownHost) {
		return err
	}
	if err := appendKnownHost(v.cfg.KnownHostsFile, hostname, key); err != nil {
		return err
	}
	v.cfg.Logger.Warn("trust on first use: recorded a new host key; verify the fingerprint out of band",
		"host", v.cfg.Addr, "key", describeKey(key), "known_hosts", v.cfg.KnownHostsFile)
	return nil
}

func appendKnownHost(path, hostname string, key gossh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("ssh: record host key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("ssh: record host key: %w", err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("ssh: record host key in %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ssh: record host key in %s: %w", path, err)
	}
	return nil
}

// probeKey is a key no host has; checking it yields every key recorded for
// an address.
var probeKey = func() gossh.PublicKey {
	k, _ := gossh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	return k
}()

// algorithms restricts the handshake to the key types known_hosts has for
// addr. Without it the server may pick a type we have no entry for (say
// ECDSA when we recorded ED25519), which would look like a changed key.
func (v *hostVerifier) algorithms(addr string) []string {
	var keyErr *knownhosts.KeyError
	if !errors.As(v.db(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey), &keyErr) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range keyErr.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == gossh.KeyAlgoRSA {
		return []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSA}
	}
	return []string{keyType}
}
