package worker_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// TestSecretsMaskedInTaskLog runs a command that prints a secret variable
// and an http task whose failure message quotes a response holding the
// connection's password: neither value may reach the stored log.
func TestSecretsMaskedInTaskLog(t *testing.T) {
	const password, token = "pa55-word-9", "tok-3f9a-secret"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		_, _ = w.Write([]byte(`{"echo": "` + pass + `"}`))
	}))
	t.Cleanup(api.Close)
	h := newHarness(t, map[string]string{"mask.hcl": `
dag "mask" {
  task "cmd" { command = "echo token=${var.token}; echo stderr=${var.token} >&2" }
  task "plain" { command = "echo region=${var.region}" }
  task "call" {
    http {
      conn_id         = "api"
      url             = "/check"
      expected_status = [201]
    }
  }
}`})
	keys, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{connections.EnvName("api"): "http://svc:" + password + "@" + strings.TrimPrefix(api.URL, "http://")}
	h.conns = connections.NewResolver(h.st, keys, func(k string) string { return env[k] })
	ctx := t.Context()
	if err := h.st.SetVariable(ctx, store.Variable{Key: "token", Value: token, Secret: true}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetVariable(ctx, store.Variable{Key: "region", Value: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	run, tis := h.run("mask")
	wantStates(t, tis, map[string]store.TIState{"cmd": store.TISuccess, "plain": store.TISuccess, "call": store.TIFailed})
	cmd := h.log(run, "cmd", 1)
	if strings.Contains(cmd, token) || !strings.Contains(cmd, "token=***") || !strings.Contains(cmd, "stderr=***") {
		t.Errorf("secret variable not masked:\n%s", cmd)
	}
	if plain := h.log(run, "plain", 1); !strings.Contains(plain, "region=eu-west-1") {
		t.Errorf("a plain variable was masked:\n%s", plain)
	}
	call := h.log(run, "call", 1)
	if strings.Contains(call, password) || !strings.Contains(call, `{"echo": "***"}`) {
		t.Errorf("connection password not masked:\n%s", call)
	}
}
