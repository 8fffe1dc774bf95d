package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/secrets"
)

type connectionList struct {
	Connections []map[string]any `json:"connections"`
	Total       int              `json:"total_entries"`
}

func withKeys(t testing.TB, keys string) envOption {
	kr, err := secrets.ParseKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.SecretKeys = kr }
}

const connPassword = "pw-Hunter2-xyz"

// newConnection is what a client POSTs for connection id.
func newConnection(id string) map[string]any {
	return map[string]any{"connection_id": id, "conn_type": "postgres", "host": "db.internal", "port": 5432,
		"login": "etl", "schema": "dwh", "password": connPassword, "description": "the DWH",
		"extra": `{"sslmode": "require", "private_key": "PRIVATE-KEY-DATA"}`}
}

func TestConnectionsCRUD(t *testing.T) {
	key := secrets.GenerateKey()
	e := newEnv(t, withKeys(t, key))
	leak := func(what string, body *bytes.Buffer) {
		t.Helper()
		for _, s := range []string{connPassword, "PRIVATE-KEY-DATA", `"password"`} {
			if strings.Contains(body.String(), s) {
				t.Errorf("%s shows %s: %s", what, s, body)
			}
		}
	}
	for _, id := range []string{"b", "a", "c"} {
		w := e.as("op", "POST", "/api/v1/connections", newConnection(id))
		expect(t, w, http.StatusOK)
		leak("POST", w.Body)
	}
	raw, err := e.st.GetConnection(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Ciphertext, []byte(connPassword)) || bytes.Contains(raw.Ciphertext, []byte("db.internal")) {
		t.Error("the store holds the connection in clear")
	}

	w := e.as("op", "GET", "/api/v1/connections?limit=2", nil)
	expect(t, w, http.StatusOK)
	leak("list", w.Body)
	l := decode[connectionList](t, w)
	if l.Total != 3 || len(l.Connections) != 2 || l.Connections[0]["connection_id"] != "a" || l.Connections[1]["connection_id"] != "b" {
		t.Fatalf("list: %+v", l)
	}
	if _, ok := l.Connections[0]["extra"]; ok {
		t.Error("list items carry the extra; Airflow's collection items do not")
	}

	w = e.as("op", "GET", "/api/v1/connections/c", nil)
	expect(t, w, http.StatusOK)
	leak("get", w.Body)
	c := decode[map[string]any](t, w)
	for k, want := range map[string]any{"connection_id": "c", "conn_type": "postgres", "host": "db.internal", "port": 5432.0,
		"login": "etl", "schema": "dwh", "description": "the DWH"} {
		if c[k] != want {
			t.Errorf("get: %s = %v, want %v", k, c[k], want)
		}
	}
	if extra, _ := c["extra"].(string); !strings.Contains(extra, `"private_key":"***"`) || !strings.Contains(extra, `"sslmode":"require"`) {
		t.Errorf("extra = %v, want sensitive fields redacted and others shown", c["extra"])
	}

	// update_mask=host changes only the host; the redacted extra sent back
	// keeps the private key; a new password is stored.
	c["host"], c["description"], c["password"] = "replica.internal", "ignored", "new-password"
	expect(t, e.as("op", "PATCH", "/api/v1/connections/c?update_mask=host,extra", c), http.StatusOK)
	expect(t, e.as("op", "PATCH", "/api/v1/connections/c?update_mask=password", map[string]any{"password": "new-password"}), http.StatusOK)
	got, err := e.srv.conns.Get(t.Context(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "replica.internal" || got.Description != "the DWH" || got.Password != "new-password" ||
		!strings.Contains(got.Extra, "PRIVATE-KEY-DATA") {
		t.Errorf("after PATCH: %+v", got)
	}

	expectProblem(t, e.as("op", "POST", "/api/v1/connections", newConnection("a")), http.StatusConflict, "a")
	expectProblem(t, e.as("op", "POST", "/api/v1/connections", map[string]any{"connection_id": "x"}), 400, "conn_type")
	expectProblem(t, e.as("op", "POST", "/api/v1/connections", map[string]any{"connection_id": "a b", "conn_type": "http"}), 400, "a b")
	expectProblem(t, e.as("op", "POST", "/api/v1/connections", map[string]any{"connection_id": "x", "conn_type": "http", "extra": "[1]"}), 400, "JSON object")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/connections/c", map[string]any{"connection_id": "other"}), 400, "connection_id")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/connections/c?update_mask=colour", map[string]any{}), 400, "colour")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/connections/nope", map[string]any{"host": "h"}), 404, "nope")
	expectProblem(t, e.as("op", "GET", "/api/v1/connections/nope", nil), 404, "nope")
	expect(t, e.as("op", "DELETE", "/api/v1/connections/c", nil), http.StatusNoContent)
	expectProblem(t, e.as("op", "DELETE", "/api/v1/connections/c", nil), 404, "c")

	for name, n := range map[string]int{"api.post_connection": 3, "api.patch_connection": 2, "api.delete_connection": 1} {
		evs := e.events(name)
		if len(evs) != n {
			t.Errorf("%s: %d events, want %d", name, len(evs), n)
		}
		for _, ev := range evs {
			if strings.Contains(ev.Extra, "password") || strings.Contains(ev.Extra, "db.internal") {
				t.Errorf("event %s records values: %q", name, ev.Extra)
			}
		}
	}
}

func TestConnectionsPermissions(t *testing.T) {
	e := newEnv(t, withKeys(t, secrets.GenerateKey()))
	expect(t, e.as("admin", "POST", "/api/v1/connections", newConnection("a")), http.StatusOK)
	for _, user := range []string{"viewer", "user"} {
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/connections"}, {"GET", "/api/v1/connections/a"}, {"POST", "/api/v1/connections"},
			{"PATCH", "/api/v1/connections/a"}, {"DELETE", "/api/v1/connections/a"},
		} {
			var body any
			if r.method == "POST" || r.method == "PATCH" {
				body = newConnection("a")
			}
			expect(t, e.as(user, r.method, r.path, body), http.StatusForbidden)
		}
	}
	expect(t, e.as("", "GET", "/api/v1/connections", nil), http.StatusUnauthorized)
	expect(t, e.as("op", "GET", "/api/v1/connections/a", nil), http.StatusOK)
}

func TestConnectionsKeyProblems(t *testing.T) {
	e := newEnv(t, withKeys(t, secrets.GenerateKey()))
	expect(t, e.as("op", "POST", "/api/v1/connections", newConnection("a")), http.StatusOK)

	e.srv = e.newServer() // no AIRD_ENCRYPTION_KEY
	expectProblem(t, e.as("op", "GET", "/api/v1/connections", nil), http.StatusServiceUnavailable, secrets.EnvKey+" is not set")
	expectProblem(t, e.as("op", "POST", "/api/v1/connections", newConnection("b")), http.StatusServiceUnavailable, secrets.EnvKey)

	e.srv = e.newServer(withKeys(t, secrets.GenerateKey())) // another key
	expectProblem(t, e.as("op", "GET", "/api/v1/connections/a", nil), http.StatusServiceUnavailable, "wrong secret key")

	// Deleting needs no key.
	expect(t, e.as("op", "DELETE", "/api/v1/connections/a", nil), http.StatusNoContent)
}

func TestSecretVariables(t *testing.T) {
	e := newEnv(t)
	const value = "s3cr3t-variable-value"
	w := e.as("op", "POST", "/api/v1/variables", map[string]any{"key": "token", "value": value, "is_secret": true})
	expect(t, w, http.StatusOK)
	for what, w := range map[string]interface{ String() string }{
		"POST": w.Body,
		"GET":  e.as("op", "GET", "/api/v1/variables/token", nil).Body,
		"list": e.as("op", "GET", "/api/v1/variables", nil).Body,
	} {
		if strings.Contains(w.String(), value) || !strings.Contains(w.String(), `"value":"***"`) || !strings.Contains(w.String(), `"is_secret":true`) {
			t.Errorf("%s shows a secret variable as %s", what, w)
		}
	}
	if v, _ := e.st.GetVariable(t.Context(), "token"); v.Value != value || !v.Secret {
		t.Fatalf("stored %+v", v)
	}

	// "***" sent back keeps the value; un-marking needs a new value.
	expect(t, e.as("op", "PATCH", "/api/v1/variables/token", map[string]any{"value": "***", "description": "d"}), http.StatusOK)
	if v, _ := e.st.GetVariable(t.Context(), "token"); v.Value != value || v.Description != "d" {
		t.Errorf("after PATCH with ***: %+v", v)
	}
	expectProblem(t, e.as("op", "PATCH", "/api/v1/variables/token", map[string]any{"is_secret": false}), 400, "new value")
	expectProblem(t, e.as("op", "POST", "/api/v1/variables", map[string]any{"key": "token", "value": "***"}), 400, "new value")
	expect(t, e.as("op", "PATCH", "/api/v1/variables/token", map[string]any{"is_secret": false, "value": "public"}), http.StatusOK)
	if got := decode[variableJSON](t, e.as("op", "GET", "/api/v1/variables/token", nil)); got.Value != "public" || got.IsSecret {
		t.Errorf("after making it plain: %+v", got)
	}
}

func TestUISecretVariables(t *testing.T) {
	e := newEnv(t)
	s := signIn(t, e, "op")
	const value = "ui-s3cr3t-value"
	if code, _ := s.post("/variables", url.Values{"key": {"region_key"}, "value": {value}, "is_secret": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("set secret variable: %d", code)
	}
	for _, page := range []string{"/variables", "/variables?edit=region_key"} {
		if _, body := s.get(page); strings.Contains(body, value) || !strings.Contains(body, "***") {
			t.Errorf("%s shows the secret value", page)
		}
	}
	// Saving the edit form as shown keeps the value.
	if code, _ := s.post("/variables", url.Values{"key": {"region_key"}, "value": {"***"}, "is_secret": {"1"}, "description": {"d"}}); code != http.StatusSeeOther {
		t.Fatalf("save unchanged: %d", code)
	}
	if v, _ := e.st.GetVariable(t.Context(), "region_key"); v.Value != value || !v.Secret || v.Description != "d" {
		t.Errorf("after saving the form unchanged: %+v", v)
	}
}
