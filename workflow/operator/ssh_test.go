package operator_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
)

func sshConn(t *testing.T, srv *testenv.SSHServer, knownHostsLine string) connections.Connection {
	t.Helper()
	key, err := os.ReadFile(srv.ClientKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	extra := `{"known_hosts": ` + strconv.Quote(knownHostsLine) + `, "private_key": ` + strconv.Quote(string(key)) + `}`
	return connections.Connection{ConnID: "box", ConnType: "ssh", Host: host, Port: p, Login: srv.User, Extra: extra}
}

func TestSSHOperator(t *testing.T) {
	srv := testenv.SSHD(t)
	known, err := os.ReadFile(srv.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	env := func(c connections.Connection, log *syncBuffer) *operator.Env {
		return &operator.Env{Conns: conns{"box": c}, Log: log}
	}
	good := sshConn(t, srv, string(known))
	var log syncBuffer
	res, err := build(t, `
    ssh {
      conn_id = "box"
      command = "echo first; echo ${run.ds} >&2; echo; echo last line; echo"
    }`, dag.RunContext{}).Run(t.Context(), env(good, &log))
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	if res.Output != "last line" || !strings.Contains(log.String(), "first\n") || !strings.Contains(log.String(), "0001-01-01") {
		t.Errorf("output %q, log:\n%s", res.Output, log.String())
	}

	exit := build(t, `
    ssh {
      conn_id = "box"
      command = "exit 3"
    }`, dag.RunContext{})
	if _, err := exit.Run(t.Context(), env(good, &log)); err == nil || !strings.Contains(err.Error(), "exited with status 3") {
		t.Errorf("exit 3: err = %v", err)
	}

	// Another host's key for the same address: the connection must be refused.
	other, err := ssh.NewSignerFromKey(mustEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	wrong := sshConn(t, srv, knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, other.PublicKey()))
	if _, err := exit.Run(t.Context(), env(wrong, &log)); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("wrong host key: err = %v, want a key mismatch", err)
	}
	none := sshConn(t, srv, "")
	if _, err := exit.Run(t.Context(), env(none, &log)); err == nil || !strings.Contains(err.Error(), "has no known_hosts") {
		t.Errorf("no known_hosts: err = %v", err)
	}
}

func mustEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
