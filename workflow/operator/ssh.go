package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/airctl/airctl/workflow/connections"
)

// SSH runs a command on a remote host; its output is the last non-empty
// line of the command's stdout. The host key must be in the connection's
// known_hosts: an unknown or changed key fails the task.
type SSH struct {
	ConnID  string
	Command string
}

// sshExtra is what an ssh connection's JSON extra may hold.
type sshExtra struct {
	KnownHosts string `json:"known_hosts"` // known_hosts lines for the host
	PrivateKey string `json:"private_key"` // PEM; else the password is used
}

// Run connects, runs the command and waits for it; a non-zero exit fails
// the task. Cancelling ctx closes the connection, which ends the command.
func (s *SSH) Run(ctx context.Context, env *Env) (Result, error) {
	c, err := env.conn(ctx, s.ConnID)
	if err != nil {
		return Result{}, err
	}
	client, err := dialSSH(ctx, c)
	if err != nil {
		return Result{}, err
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	sess, err := client.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("ssh session on %s: %w", s.ConnID, err)
	}
	defer sess.Close()
	var last LastLine
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	sess.Stdout, sess.Stderr = io.MultiWriter(log, &last), log
	env.logf("ssh %s@%s: %s", c.Login, c.Host, s.Command)
	err = sess.Run(s.Command)
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("ssh command on %s stopped: %w", s.ConnID, ctx.Err())
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return Result{}, fmt.Errorf("ssh command on %s exited with status %d", s.ConnID, exit.ExitStatus())
	}
	if err != nil {
		return Result{}, fmt.Errorf("ssh command on %s: %w", s.ConnID, err)
	}
	out, err := last.Line()
	return Result{Output: out}, err
}

// dialSSH connects and authenticates with host key verification.
func dialSSH(ctx context.Context, c connections.Connection) (*ssh.Client, error) {
	var extra sshExtra
	if c.Extra != "" {
		if err := json.Unmarshal([]byte(c.Extra), &extra); err != nil {
			return nil, fmt.Errorf("connection %s: extra must be a JSON object with known_hosts and private_key: %w", c.ConnID, err)
		}
	}
	hostKeys, err := hostKeyCallback(c.ConnID, extra.KnownHosts)
	if err != nil {
		return nil, err
	}
	auth, err := sshAuth(c, extra.PrivateKey)
	if err != nil {
		return nil, err
	}
	port := c.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	var d net.Dialer
	tcp, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh connect to %s (%s): %w", c.ConnID, addr, err)
	}
	conf := &ssh.ClientConfig{User: c.Login, Auth: auth, HostKeyCallback: hostKeys}
	sc, chans, reqs, err := ssh.NewClientConn(tcp, addr, conf)
	if err != nil {
		tcp.Close()
		return nil, fmt.Errorf("ssh handshake with %s (%s): %w", c.ConnID, addr, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// hostKeyCallback verifies host keys against known_hosts text. knownhosts
// reads files only, so the text goes through a private temporary file.
func hostKeyCallback(connID, knownHosts string) (ssh.HostKeyCallback, error) {
	if knownHosts == "" {
		return nil, fmt.Errorf("connection %s has no known_hosts: add the host's line (ssh-keyscan -p PORT HOST) as extra {\"known_hosts\": \"...\"}; aird never trusts an unverified host key", connID)
	}
	f, err := os.CreateTemp("", "aird-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("known_hosts of %s: %w", connID, err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(knownHosts + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("known_hosts of %s: %w", connID, err)
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, fmt.Errorf("connection %s: invalid known_hosts: %w", connID, err)
	}
	return cb, nil
}

func sshAuth(c connections.Connection, privateKey string) ([]ssh.AuthMethod, error) {
	if privateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(privateKey))
		if err != nil {
			return nil, fmt.Errorf("connection %s: private_key: %w", c.ConnID, err)
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, nil
	}
	if c.Password != "" {
		return []ssh.AuthMethod{ssh.Password(c.Password)}, nil
	}
	return nil, fmt.Errorf("connection %s has neither a password nor extra private_key", c.ConnID)
}
