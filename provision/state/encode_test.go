package state

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// sample builds a state without statetest (which imports this package).
func sample(t *testing.T) *State {
	t.Helper()
	s := New("1.2.3")
	s.Serial, s.Lineage = 4, "5b1f2c2e-8c57-4a52-9d3c-0f5b7d2c1a11"
	s.SetInstance(MustParseAddress("google_compute_instance.vm"), "google", &Instance{
		Attributes:   json.RawMessage(`{"zone":"us-central1-a", "name":"vm","id":12345678901234567890, "url":"https://x/?a=1&b=<2>"}`),
		Dependencies: []string{"google_compute_network.n", "google_compute_address.a", "google_compute_network.n"},
	})
	s.SetInstance(MustParseAddress(`google_sql_user.u["airflow"]`), "google", &Instance{
		Attributes:          json.RawMessage(`{"name":"airflow","password":"s3cret"}`),
		SensitiveAttributes: []string{"password"},
		Status:              Tainted,
	})
	s.SetInstance(MustParseAddress("google_compute_firewall.fw[1]"), "google", &Instance{Attributes: json.RawMessage(`{}`)})
	s.SetInstance(MustParseAddress("google_compute_firewall.fw[0]"), "google", &Instance{Attributes: json.RawMessage(`{}`)})
	s.SetInstance(MustParseAddress("data.google_project.p"), "google", &Instance{Attributes: json.RawMessage(`{"id":"p"}`)})
	s.Outputs["ip"] = Output{Value: json.RawMessage(`"1.2.3.4"`), Type: json.RawMessage(`"string"`)}
	return s
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	s := sample(t)
	data, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, data)
	}
	if !Equal(s, back) || back.Serial != 4 || back.AirctlVersion != "1.2.3" {
		t.Fatalf("round trip changed the state:\n%s", data)
	}
	again, _ := Encode(back)
	if !bytes.Equal(data, again) {
		t.Fatalf("Encode(Decode(x)) != x:\n%s\n---\n%s", data, again)
	}
	if in := back.Instance(MustParseAddress(`google_sql_user.u["airflow"]`)); in.Status != Tainted || in.IndexKey != StringKey("airflow") {
		t.Fatalf("instance fields lost: %+v", in)
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	a := sample(t)
	b := New("1.2.3")
	b.Serial, b.Lineage = a.Serial, a.Lineage
	// Same content, built in the opposite order with different key order.
	for i := len(a.Resources) - 1; i >= 0; i-- {
		r := a.Resources[i]
		for j := len(r.Instances) - 1; j >= 0; j-- {
			in := r.Instances[j].DeepCopy()
			if in.IndexKey == NoKey() && r.Type == "google_compute_instance" {
				in.Attributes = json.RawMessage(`{"url":"https://x/?a=1&b=<2>","id":12345678901234567890,"name":"vm","zone":"us-central1-a"}`)
			}
			b.SetInstance(r.Addr().Instance(in.IndexKey), r.Provider, in)
		}
	}
	b.Outputs["ip"] = a.Outputs["ip"]
	ea, _ := Encode(a)
	eb, _ := Encode(b)
	if !bytes.Equal(ea, eb) {
		t.Fatalf("same state, different bytes:\n%s\n---\n%s", ea, eb)
	}
	for _, want := range []string{`"id": 12345678901234567890`, `a=1&b=<2>`, `"index_key": 0`, `"dependencies": [`} {
		if !strings.Contains(string(ea), want) {
			t.Errorf("encoding lacks %s:\n%s", want, ea)
		}
	}
	if strings.Count(string(ea), `"google_compute_network.n"`) != 1 {
		t.Errorf("dependencies not deduplicated:\n%s", ea)
	}
	if strings.Index(string(ea), `"fw-0"`) > strings.Index(string(ea), `"fw-1"`) {
		t.Errorf("count instances out of order")
	}
}

func TestEqualIgnoresSerialAndVersion(t *testing.T) {
	a, b := sample(t), sample(t)
	b.Serial, b.AirctlVersion = 99, "9.9.9"
	if !Equal(a, b) {
		t.Fatal("Equal must ignore serial and airctl_version")
	}
	b.Instance(MustParseAddress("google_compute_firewall.fw[0]")).Status = Tainted
	if Equal(a, b) {
		t.Fatal("Equal missed a status change")
	}
	c := sample(t)
	c.Instance(MustParseAddress("google_compute_firewall.fw[0]")).ImportID = "fw-0"
	if Equal(a, c) {
		t.Fatal("Equal missed an import ID change")
	}
	if !Equal(nil, nil) || Equal(a, nil) {
		t.Fatal("Equal with nil")
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string]string{
		"not json":          `{`,
		"newer format":      `{"version": 2, "serial": 1, "lineage": "x", "resources": []}`,
		"terraform state":   `{"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "x", "resources": []}`,
		"bad mode":          `{"version": 1, "resources": [{"mode": "weird", "type": "t", "name": "n", "instances": []}]}`,
		"attrs not object":  `{"version": 1, "resources": [{"mode": "managed", "type": "t", "name": "n", "instances": [{"attributes": [1]}]}]}`,
		"duplicate":         `{"version": 1, "resources": [{"type": "t", "name": "n", "instances": []}, {"type": "t", "name": "n", "instances": []}]}`,
		"duplicate key":     `{"version": 1, "resources": [{"type": "t", "name": "n", "instances": [{"index_key": 1, "attributes": {}}, {"index_key": 1, "attributes": {}}]}]}`,
		"negative index":    `{"version": 1, "resources": [{"type": "t", "name": "n", "instances": [{"index_key": -1, "attributes": {}}]}]}`,
		"unknown status":    `{"version": 1, "resources": [{"type": "t", "name": "n", "instances": [{"status": "weird", "attributes": {}}]}]}`,
		"intent without id": `{"version": 1, "resources": [{"type": "t", "name": "n", "instances": [{"status": "creating", "attributes": {}}]}]}`,
	}
	for name, doc := range tests {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%s: Decode accepted %s", name, doc)
		}
	}
	_, err := Decode([]byte(tests["terraform state"]))
	if !strings.Contains(err.Error(), "airctl import") {
		t.Errorf("Terraform state error %q should point at airctl import", err)
	}
}
