package google

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/state"
)

// TestReferenceStack loads the Terraform file of the reference stack
// unchanged (provision/config/testdata/reference), plans it against this
// provider's schemas, applies it to the fake and re-plans to no changes.
// The endpoints come from Terraform's environment variables.
func TestReferenceStack(t *testing.T) {
	e := newEnv(t, gcpfake.Options{})
	e.project = "airflow-prod-123" // from its terraform.tfvars
	src := filepath.Join("..", "config", "testdata", "reference")
	for _, name := range []string{"main.tf", "terraform.tfvars", filepath.Join("templates", "startup.sh.tftpl")} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(e.dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(e.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.dir, "secret.auto.tfvars"), []byte("db_password = \"pw-1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range e.ep.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}

	p := e.plan()
	add, change, del := p.Summary()
	if add < 19 || change != 0 || del != 0 {
		t.Fatalf("plan %d to add, %d to change, %d to destroy:\n%s", add, change, del, describe(p))
	}
	e.apply()
	if got := e.str("google_sql_database_instance.airflow_db", "connection_name"); got != "airflow-prod-123:us-central1:airflow-db" {
		t.Fatalf("connection_name = %q", got)
	}
	e.noChanges()
	e.checkPlannedImportIDs()

	// Every managed object imports by its id (google_sql_user by
	// INSTANCE/NAME: its id is Terraform's name/host/instance) to a state
	// that plans no changes, but for the user's password, which the API
	// does not return and the next apply sets.
	var addrs []string
	ids := map[string]string{}
	for _, a := range e.state().Addresses() {
		if a.Mode == state.Data {
			continue
		}
		addr := a.String()
		addrs = append(addrs, addr)
		ids[addr] = e.str(addr, "id")
		if a.Type == "google_sql_user" {
			ids[addr] = e.str(addr, "instance") + "/" + e.str(addr, "name")
		}
	}
	for _, addr := range addrs {
		e.forget(addr)
		e.importID(addr, ids[addr])
	}
	p = e.plan()
	for _, c := range p.Changes {
		if c.Action != provision.NoOp && c.Action != provision.Read && c.Addr.String() != "google_sql_user.airflow" {
			t.Errorf("%s: %s after import:\n%s", c.Addr, c.Action, describe(p))
		}
	}
	e.apply()
	e.noChanges()
}
