package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// connHome runs `aird connections ...` against an AIRD_HOME of its own.
type connHome struct {
	t   *testing.T
	dir string
}

// run runs aird with AIRD_ENCRYPTION_KEY=key ("" unsets it) and stdin, and
// returns its output and whether it succeeded.
func (h connHome) run(key, stdin string, args ...string) (string, bool) {
	h.t.Helper()
	c := exec.Command(airdBin, args...)
	c.Env = append(os.Environ(), "AIRD_HOME="+h.dir, "AIRD_DAGS_FOLDER=", secrets.EnvKey+"="+key)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		h.t.Fatal(err)
	}
	return string(out), err == nil
}

func (h connHome) ok(key string, args ...string) string {
	h.t.Helper()
	out, ok := h.run(key, "", args...)
	if !ok {
		h.t.Fatalf("aird %v failed:\n%s", args, out)
	}
	return out
}

func (h connHome) fails(key, want string, args ...string) {
	h.t.Helper()
	out, ok := h.run(key, "", args...)
	if ok || !strings.Contains(out, want) {
		h.t.Errorf("aird %v: ok=%v, output %q; want a failure saying %q", args, ok, out, want)
	}
}

func TestConnectionsCLI(t *testing.T) {
	t.Parallel()
	h := connHome{t: t, dir: t.TempDir()}
	oldKey := strings.TrimSpace(h.ok("", "connections", "generate-key"))
	newKey := strings.TrimSpace(h.ok("", "connections", "generate-key"))
	if oldKey == newKey {
		t.Fatal("generate-key printed the same key twice")
	}
	const password = "hunter2-Pw"

	h.ok(oldKey, "connections", "add", "warehouse", "--conn-uri", "postgres://etl:"+password+"@db.internal:5432/dwh")
	if out, ok := h.run(oldKey, "http://https://api.example.com/?timeout=5\n", "connections", "add", "api", "--conn-uri", "-"); !ok {
		t.Fatalf("add from stdin: %s", out)
	}
	h.ok(oldKey, "connections", "add", "box", "--conn-type", "ssh", "--conn-host", "box.internal", "--conn-login", "deploy",
		"--conn-extra", `{"private_key": "KEYDATA"}`)
	h.fails(oldKey, "already exists", "connections", "add", "warehouse", "--conn-uri", "postgres://x@y")
	h.fails(oldKey, "port", "connections", "add", "bad", "--conn-uri", "postgres://x@y:z")

	// At rest: no password, host or login in the database file.
	st, err := sqlite.Open(context.Background(), filepath.Join(h.dir, "aird.db"))
	must(t, err)
	defer st.Close()
	raw, err := st.GetConnection(t.Context(), "warehouse")
	must(t, err)
	for _, clear := range []string{password, "db.internal", "etl"} {
		if bytes.Contains(raw.Ciphertext, []byte(clear)) {
			t.Errorf("stored ciphertext contains %q", clear)
		}
	}
	dbFile, err := os.ReadFile(filepath.Join(h.dir, "aird.db"))
	must(t, err)
	if bytes.Contains(dbFile, []byte(password)) {
		t.Error("the database file contains the password")
	}

	list := h.ok(oldKey, "connections", "list")
	if !strings.Contains(list, "warehouse") || !strings.Contains(list, "https://api.example.com") || strings.Contains(list, password) {
		t.Errorf("list:\n%s", list)
	}
	var byID map[string]map[string]any
	must(t, json.Unmarshal([]byte(h.ok(oldKey, "connections", "list", "-o", "json")), &byID))
	if byID["warehouse"]["host"] != "db.internal" || byID["warehouse"]["password"] != nil || byID["api"]["extra"] != `{"timeout":"5"}` {
		t.Errorf("list -o json = %v", byID)
	}

	export := h.ok(oldKey, "connections", "export", "-", "--format", "env")
	if !strings.Contains(export, "warehouse=postgres://etl:"+password+"@db.internal:5432/dwh\n") {
		t.Errorf("env export:\n%s", export)
	}
	file := filepath.Join(h.dir, "conns.json")
	h.ok(oldKey, "connections", "export", file)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file: %v, mode %v; want 0600", err, fi.Mode())
	}

	// Export → import moves connections to another aird with another key.
	envFile := filepath.Join(h.dir, "conns.env")
	must(t, os.WriteFile(envFile, []byte(export), 0o600))
	for _, f := range []string{file, envFile} {
		other := connHome{t: t, dir: t.TempDir()}
		if out := other.ok(newKey, "connections", "import", f); !strings.Contains(out, "3 connections imported, 0 skipped") {
			t.Errorf("import %s: %s", f, out)
		}
		if out := other.ok(newKey, "connections", "import", f); !strings.Contains(out, "0 connections imported, 3 skipped") {
			t.Errorf("second import %s: %s", f, out)
		}
		if out := other.ok(newKey, "connections", "import", "--overwrite", f); !strings.Contains(out, "3 connections imported") {
			t.Errorf("import --overwrite %s: %s", f, out)
		}
		if got := other.ok(newKey, "connections", "export", "-", "--format", "env"); got != export {
			t.Errorf("after importing %s, export =\n%s\nwant\n%s", f, got, export)
		}
	}
	bad := filepath.Join(h.dir, "bad.env")
	must(t, os.WriteFile(bad, []byte("ok=http://h\nbroken\n"), 0o600))
	h.fails(oldKey, "line 2", "connections", "import", bad)

	// A wrong key, or none, fails clearly.
	h.fails(newKey, secrets.EnvKey, "connections", "list")
	h.fails(newKey, "wrong secret key", "connections", "list")
	h.fails("", secrets.EnvKey+" is not set", "connections", "list")
	h.fails("not-a-key", secrets.EnvKey+": key 1", "connections", "list")

	// Rotation: new key first, old key second; then the old key can go.
	out := h.ok(newKey+","+oldKey, "connections", "rotate-key")
	if !strings.Contains(out, "3 connections re-encrypted") {
		t.Errorf("rotate-key: %s", out)
	}
	if list := h.ok(newKey, "connections", "list"); !strings.Contains(list, "db.internal") {
		t.Errorf("list with the new key only:\n%s", list)
	}
	h.fails(oldKey, "wrong secret key", "connections", "list")

	h.ok(newKey, "connections", "delete", "warehouse")
	h.fails(newKey, "not found", "connections", "delete", "warehouse")
	if list := h.ok(newKey, "connections", "list"); strings.Contains(list, "warehouse") {
		t.Errorf("deleted connection still listed:\n%s", list)
	}
}

func TestVariablesCLI(t *testing.T) {
	t.Parallel()
	h := connHome{t: t, dir: t.TempDir()}
	const value = "var-S3cret-value"
	h.ok("", "variables", "set", "token", value, "--secret", "--description", "API token")
	h.ok("", "variables", "set", "region", "europe-west1")
	list := h.ok("", "variables", "list")
	if strings.Contains(list, value) || !strings.Contains(list, "***") || !strings.Contains(list, "europe-west1") {
		t.Errorf("list:\n%s", list)
	}
	h.fails("", "--reveal", "variables", "get", "token")
	if got := h.ok("", "variables", "get", "token", "--reveal"); got != value+"\n" {
		t.Errorf("get --reveal = %q", got)
	}
	if got := h.ok("", "variables", "get", "region"); got != "europe-west1\n" {
		t.Errorf("get = %q", got)
	}
	h.ok("", "variables", "delete", "token")
	h.fails("", "not found", "variables", "get", "token")
}

// TestConnectionsThroughWebserver: a connection added with the CLI is
// served by `aird webserver` (which reads AIRD_ENCRYPTION_KEY from its
// environment) without its secrets.
func TestConnectionsThroughWebserver(t *testing.T) {
	h := newHome(t, "1s")
	t.Setenv(secrets.EnvKey, secrets.GenerateKey())
	h.run("connections", "add", "api", "--conn-uri", "http://https://tok:pw-secret-9@api.example.com:8443/?api_token=TOK123&timeout=5")
	h.run("users", "create", "--username", "op", "--role", "Op", "--email", "op@example.com", "--password", "op-password")
	base, stop := h.serveLogged("webserver")
	code, body := get(t, base+"/api/v1/connections/api", "op", "op-password")
	if code != 200 || !strings.Contains(body, `"host":"https://api.example.com"`) || !strings.Contains(body, `\"timeout\":\"5\"`) {
		t.Errorf("GET connection: %d %s", code, body)
	}
	if strings.Contains(body, "pw-secret-9") || strings.Contains(body, "TOK123") {
		t.Errorf("the API shows a secret: %s", body)
	}
	if err := stop(); err != nil {
		t.Fatalf("webserver did not exit cleanly: %v", err)
	}
}
