package state

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	s := New("v")
	addr := MustParseAddress("google_sql_user.u")
	s.SetInstance(addr, "google", &Instance{
		Attributes:          json.RawMessage(`{"name":"airflow","password":"s3cret","settings":[{"key":"k3y","tier":"t"}],"labels":{"team":"data"},"block":null}`),
		SensitiveAttributes: []string{"password", "settings[0].key", `labels["team"]`, "block[0].x", "missing"},
	})
	s.Outputs["db_password"] = Output{Value: json.RawMessage(`"s3cret"`), Type: json.RawMessage(`"string"`), Sensitive: true}
	s.Outputs["ip"] = Output{Value: json.RawMessage(`"10.0.0.1"`), Type: json.RawMessage(`"string"`)}

	r, err := s.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Encode(r)
	for _, secret := range []string{"s3cret", "k3y", `"data"`} {
		if strings.Contains(string(data), secret) {
			t.Errorf("redacted state still shows %s:\n%s", secret, data)
		}
	}
	for _, keep := range []string{"airflow", `"tier": "t"`, "10.0.0.1", Redacted} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("redacted state lost %s:\n%s", keep, data)
		}
	}
	if !strings.Contains(string(s.Instance(addr).Attributes), "s3cret") {
		t.Fatal("Redacted changed the original state")
	}
}
