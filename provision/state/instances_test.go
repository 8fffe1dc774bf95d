package state

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestSetGetRemoveInstance(t *testing.T) {
	s := New("v")
	vm := MustParseAddress("google_compute_instance.vm")
	fw0, fw1 := MustParseAddress("google_compute_firewall.fw[0]"), MustParseAddress("google_compute_firewall.fw[1]")
	s.SetInstance(vm, "google", &Instance{Attributes: json.RawMessage(`{"a":1}`)})
	s.SetInstance(fw1, "google", &Instance{})
	s.SetInstance(fw0, "google", &Instance{})
	s.SetInstance(vm, "", &Instance{Attributes: json.RawMessage(`{"a":2}`)}) // replace

	if got := string(s.Instance(vm).Attributes); got != `{"a":2}` {
		t.Fatalf("replaced instance attributes = %s", got)
	}
	if p := s.Resource(vm).Provider; p != "google" {
		t.Fatalf("empty provider on replace overwrote %q", p)
	}
	if s.Instance(MustParseAddress("google_compute_firewall.fw[2]")) != nil || s.Instance(MustParseAddress("data.google_compute_instance.vm")) != nil {
		t.Fatal("Instance found something that is not there")
	}
	want := []string{"google_compute_firewall.fw[0]", "google_compute_firewall.fw[1]", "google_compute_instance.vm"}
	if got := addrStrings(s.Addresses()); !slices.Equal(got, want) {
		t.Fatalf("Addresses = %v, want %v", got, want)
	}
	if !s.RemoveInstance(fw0) || s.RemoveInstance(fw0) {
		t.Fatal("RemoveInstance should report true once, then false")
	}
	s.RemoveInstance(fw1)
	if s.Resource(fw1) != nil {
		t.Fatal("a resource without instances stayed in state")
	}
	if !s.RemoveResource(vm) || len(s.Resources) != 0 {
		t.Fatalf("RemoveResource left %v", s.Addresses())
	}
}

func addrStrings(as []Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func TestDeepCopyIsIndependent(t *testing.T) {
	s := sample(t)
	c := s.DeepCopy()
	in := c.Instance(MustParseAddress(`google_sql_user.u["airflow"]`))
	in.Attributes[2] = 'X'
	in.SensitiveAttributes[0] = "name"
	c.Outputs["ip"] = Output{}
	if !Equal(s, sample(t)) {
		t.Fatal("changing the copy changed the original")
	}
}
