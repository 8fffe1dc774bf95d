package connections

import (
	"encoding/json"
	"reflect"
	"testing"
)

func jsonEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, got, err)
	}
	json.Unmarshal([]byte(want), &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestRedactExtra(t *testing.T) {
	in := `{"private_key": "KEY", "timeout": 5, "auth": {"api_token": "t", "user": "u"}, "list": [{"password": "p"}], "secret_none": null}`
	jsonEqual(t, "RedactExtra", RedactExtra(in),
		`{"private_key": "***", "timeout": 5, "auth": {"api_token": "***", "user": "u"}, "list": [{"password": "***"}], "secret_none": null}`)
	if got := RedactExtra(""); got != "" {
		t.Errorf("RedactExtra(\"\") = %q", got)
	}
	if got := RedactExtra("not json with a secret"); got != "***" {
		t.Errorf("RedactExtra(not JSON) = %q, want it masked whole", got)
	}
}

func TestUnredactExtra(t *testing.T) {
	old := `{"private_key": "KEY", "timeout": 5}`
	jsonEqual(t, "edited redacted extra", UnredactExtra(`{"private_key": "***", "timeout": 10}`, old), `{"private_key": "KEY", "timeout": 10}`)
	jsonEqual(t, "new secret", UnredactExtra(`{"private_key": "NEW"}`, old), `{"private_key": "NEW"}`)
	jsonEqual(t, "mask without an old value", UnredactExtra(`{"token": "***"}`, old), `{"token": "***"}`)
}
