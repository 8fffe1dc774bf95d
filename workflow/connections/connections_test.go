package connections

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func keyring(t *testing.T, keys ...string) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.ParseKeyring(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var warehouse = Connection{ConnID: "warehouse", ConnType: "postgres", Description: "the DWH",
	Host: "db.internal", Port: 5432, Login: "etl", Password: "hunter2-pw", Schema: "dwh",
	Extra: `{"sslmode": "require", "n": [1, 2], "url": "a&b"}`}

func TestRepoEncryptsAtRest(t *testing.T) {
	st := openStore(t)
	repo := NewRepo(st, keyring(t, secrets.GenerateKey()))
	ctx := t.Context()
	if err := repo.Set(ctx, warehouse); err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetConnection(ctx, "warehouse")
	if err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{warehouse.Password, warehouse.Host, warehouse.Login, "sslmode"} {
		if bytes.Contains(raw.Ciphertext, []byte(clear)) {
			t.Errorf("ciphertext in the store contains %q", clear)
		}
	}
	if raw.ConnType != "postgres" || raw.Description != "the DWH" {
		t.Errorf("clear columns = %q, %q", raw.ConnType, raw.Description)
	}
	got, err := repo.Get(ctx, "warehouse")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, warehouse) {
		t.Errorf("decrypted:\n got  %+v\n want %+v", got, warehouse)
	}

	// A ciphertext moved to another ID does not open: it is bound to its ID.
	raw.ConnID = "stolen"
	if err := st.SetConnection(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Get(ctx, "stolen"); err == nil {
		t.Error("a ciphertext copied to another connection ID decrypted")
	}
}

func TestRepoValidates(t *testing.T) {
	repo := NewRepo(openStore(t), keyring(t, secrets.GenerateKey()))
	for _, c := range []Connection{
		{ConnID: "", ConnType: "http"},
		{ConnID: "a b", ConnType: "http"},
		{ConnID: "a/b", ConnType: "http"},
		{ConnID: "ok", Port: 70000},
		{ConnID: "ok", Extra: "[1]"},
	} {
		if err := repo.Set(t.Context(), c); err == nil {
			t.Errorf("Set(%+v) accepted", c)
		}
	}
}

func TestRepoRotate(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	oldKey, newKey := secrets.GenerateKey(), secrets.GenerateKey()
	old := NewRepo(st, keyring(t, oldKey))
	other := warehouse
	other.ConnID, other.Password = "api", "tok-123456"
	for _, c := range []Connection{warehouse, other} {
		if err := old.Set(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := st.GetConnection(ctx, "api")

	rotating := NewRepo(st, keyring(t, newKey, oldKey))
	n, err := rotating.Rotate(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Rotate = %d, %v; want 2 rewritten", n, err)
	}
	after, _ := st.GetConnection(ctx, "api")
	if bytes.Equal(before.Ciphertext, after.Ciphertext) {
		t.Error("rotation left the ciphertext unchanged")
	}
	if n, err := rotating.Rotate(ctx); err != nil || n != 0 {
		t.Errorf("second Rotate = %d, %v; want nothing to do", n, err)
	}

	// The old key can go now.
	got, err := NewRepo(st, keyring(t, newKey)).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[1], warehouse) || got[0].Password != "tok-123456" {
		t.Errorf("after rotation, with the new key only: %+v", got)
	}
	// And the old key alone no longer opens them.
	_, err = old.Get(ctx, "api")
	if !errors.Is(err, secrets.ErrWrongKey) || !strings.Contains(err.Error(), secrets.EnvKey) {
		t.Errorf("old key after rotation: err = %v, want ErrWrongKey naming %s", err, secrets.EnvKey)
	}
}

func TestRepoWithoutKey(t *testing.T) {
	repo := NewRepo(openStore(t), nil)
	for _, err := range []error{
		repo.Set(t.Context(), warehouse),
		func() error { _, err := repo.Get(t.Context(), "warehouse"); return err }(),
		func() error { _, err := repo.Rotate(t.Context()); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), secrets.EnvKey+" is not set") {
			t.Errorf("err = %v, want it to ask for %s", err, secrets.EnvKey)
		}
	}
}

func TestResolver(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	keys := keyring(t, secrets.GenerateKey())
	if err := NewRepo(st, keys).Set(ctx, warehouse); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	r := NewResolver(st, keys, func(k string) string { return env[k] })

	got, err := r.Get(ctx, "warehouse")
	if err != nil || !reflect.DeepEqual(got, warehouse) {
		t.Errorf("from the store: %+v, %v", got, err)
	}

	env["AIRD_CONN_WAREHOUSE"] = "postgres://ro:other@replica:5433/dwh"
	got, err = r.Get(ctx, "warehouse")
	if err != nil || got.Host != "replica" || got.Password != "other" || got.ConnID != "warehouse" {
		t.Errorf("the environment does not win: %+v, %v", got, err)
	}

	env["AIRD_CONN_API"] = `{"conn_type": "http", "host": "https://api.example.com", "extra": {"timeout": 5}}`
	got, err = r.Get(ctx, "api")
	if err != nil || got.Host != "https://api.example.com" || got.Extra != `{"timeout": 5}` {
		t.Errorf("JSON form: %+v, %v", got, err)
	}
	env["AIRD_CONN_BAD"] = "not a uri"
	if _, err := r.Get(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "connection bad") {
		t.Errorf("bad environment URI: err = %v", err)
	}

	_, err = r.Get(ctx, "missing")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing: err = %v, want ErrNotFound", err)
	}
	for _, hint := range []string{"aird connections add missing", "AIRD_CONN_MISSING"} {
		if err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("missing: err = %v, want the hint %q", err, hint)
		}
	}

	// Without a key, environment connections still work.
	keyless := NewResolver(st, nil, func(k string) string { return env[k] })
	if _, err := keyless.Get(ctx, "api"); err != nil {
		t.Errorf("environment connection without a key: %v", err)
	}
	if _, err := keyless.Get(ctx, "warehouse-2"); err == nil || !strings.Contains(err.Error(), secrets.EnvKey) {
		t.Errorf("stored connection without a key: err = %v", err)
	}
}

func TestJSONForm(t *testing.T) {
	b, err := json.Marshal(warehouse)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	json.Unmarshal(b, &fields)
	for _, k := range []string{"conn_type", "description", "host", "login", "password", "schema", "port", "extra"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON %s lacks Airflow field %q", b, k)
		}
	}
	got, err := ParseJSON("warehouse", b)
	if err != nil || !reflect.DeepEqual(got, warehouse) {
		t.Errorf("ParseJSON(Marshal) = %+v, %v", got, err)
	}
	if _, err := ParseJSON("x", []byte(`{"conn_type": "http", "extra": "[1]"}`)); err == nil {
		t.Error("an extra that is not an object was accepted")
	}
}

func TestSecrets(t *testing.T) {
	c := Connection{ConnID: "box", Password: "p@ss word", Extra: `{"private_key": "-----BEGIN KEY-----", "API_TOKEN": "t0k", "host_key": "public", "n": 1}`}
	got := c.Secrets()
	slices.Sort(got)
	want := []string{"-----BEGIN KEY-----", "p%40ss%20word", "p@ss word", "t0k"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
}
