// Package statetest holds the behaviour suite every state backend must pass
// and sample states for tests.
package statetest

import (
	"encoding/json"

	"github.com/airctl/airctl/provision/state"
)

// Sample returns a small state with a managed resource, a count resource, a
// for_each resource, a data source, a sensitive attribute and outputs.
func Sample() *state.State {
	s := state.New("0.0.0-test")
	google := `provider["registry.terraform.io/hashicorp/google"]`
	s.SetInstance(state.MustParseAddress("google_compute_instance.vm"), google, &state.Instance{
		Attributes:   json.RawMessage(`{"name":"airflow-vm","machine_type":"e2-highmem-2","id":"1234567890123456789"}`),
		Dependencies: []string{"google_compute_network.net"},
	})
	s.SetInstance(state.MustParseAddress("google_compute_firewall.fw[1]"), google, &state.Instance{
		Attributes: json.RawMessage(`{"name":"fw-1"}`),
	})
	s.SetInstance(state.MustParseAddress("google_compute_firewall.fw[0]"), google, &state.Instance{
		Attributes: json.RawMessage(`{"name":"fw-0"}`),
	})
	s.SetInstance(state.MustParseAddress(`google_sql_user.u["airflow"]`), google, &state.Instance{
		Attributes:          json.RawMessage(`{"name":"airflow","password":"s3cret"}`),
		SensitiveAttributes: []string{"password"},
		CreateBeforeDestroy: true,
	})
	s.SetInstance(state.MustParseAddress("data.google_project.p"), google, &state.Instance{
		Attributes: json.RawMessage(`{"project_id":"p1"}`),
	})
	s.Outputs["ip"] = state.Output{Value: json.RawMessage(`"10.0.0.1"`), Type: json.RawMessage(`"string"`)}
	s.Outputs["db_password"] = state.Output{Value: json.RawMessage(`"s3cret"`), Type: json.RawMessage(`"string"`), Sensitive: true}
	return s
}

// Touch changes s in a way Equal notices (a new resource instance).
func Touch(s *state.State, name string) {
	s.SetInstance(state.Address{Mode: state.Managed, Type: "terraform_data", Name: name}, "builtin", &state.Instance{
		Attributes: json.RawMessage(`{"id":"` + name + `"}`),
	})
}
