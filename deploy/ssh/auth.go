package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Auth lists the credentials to offer; every one given is tried, in the
// order Signers, KeyFile, KeyEnv, agent. With none given, the ssh-agent at
// SSH_AUTH_SOCK is used if there is one.
type Auth struct {
	// Agent uses the ssh-agent at $SSH_AUTH_SOCK (a laptop).
	Agent bool
	// KeyFile is an unencrypted private key file (OpenSSH or PEM format).
	KeyFile string
	// KeyEnv names an environment variable holding a private key's text:
	// how CI systems hand over a secret without writing it to disk.
	KeyEnv string
	// Signers are keys already in memory (callers embedding airctl, tests).
	Signers []gossh.Signer
}

// authSet is the methods for one handshake plus what to close after it.
type authSet struct {
	methods []gossh.AuthMethod
	closers []func()
}

func (a authSet) close() {
	for _, c := range a.closers {
		c()
	}
}

func (a Auth) methods() (authSet, error) {
	var set authSet
	signers := append([]gossh.Signer(nil), a.Signers...)
	if a.KeyFile != "" {
		s, err := keyFromFile(a.KeyFile)
		if err != nil {
			return set, err
		}
		signers = append(signers, s)
	}
	if a.KeyEnv != "" {
		s, err := keyFromEnv(a.KeyEnv)
		if err != nil {
			return set, err
		}
		signers = append(signers, s)
	}
	if len(signers) > 0 {
		set.methods = append(set.methods, gossh.PublicKeys(signers...))
	}
	useAgent := a.Agent || (len(signers) == 0 && os.Getenv("SSH_AUTH_SOCK") != "")
	if useAgent {
		m, closeAgent, err := agentAuth()
		if err != nil {
			return set, err
		}
		set.methods = append(set.methods, m)
		set.closers = append(set.closers, closeAgent)
	}
	if len(set.methods) == 0 {
		return set, errors.New("no SSH credentials: give a key file, a key in an environment variable, or start ssh-agent and ssh-add your key")
	}
	return set, nil
}

func keyFromFile(path string) (gossh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SSH key: %w", err)
	}
	return parseKey(pem, "key file "+path)
}

func keyFromEnv(name string) (gossh.Signer, error) {
	pem := os.Getenv(name)
	if pem == "" {
		return nil, fmt.Errorf("SSH key variable $%s is empty or unset (set it to the private key's text, e.g. from a CI secret)", name)
	}
	return parseKey([]byte(pem), "$"+name)
}

// parseKey never includes key material in its errors: origin names where
// the key came from instead.
func parseKey(pem []byte, origin string) (gossh.Signer, error) {
	s, err := gossh.ParsePrivateKey(pem)
	var missing *gossh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("SSH key in %s is passphrase-protected: load it into ssh-agent (ssh-add) instead, or use an unencrypted deploy key", origin)
	case err != nil:
		return nil, fmt.Errorf("SSH key in %s: %w (want an OpenSSH or PEM private key)", origin, err)
	}
	return s, nil
}

// agentAuth asks the agent for signatures during the handshake only; the
// agent socket is closed right after it.
func agentAuth() (gossh.AuthMethod, func(), error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, errors.New("ssh-agent requested but SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add your key, or give a key file")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh-agent at SSH_AUTH_SOCK=%s: %w", sock, err)
	}
	ag := agent.NewClient(conn)
	return gossh.PublicKeysCallback(ag.Signers), func() { _ = conn.Close() }, nil
}

func defaultKnownHosts() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("ssh: no known_hosts file given and no home directory: %w", err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}
