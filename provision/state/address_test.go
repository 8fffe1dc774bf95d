package state

import (
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
	}{
		{"google_compute_instance.vm", Address{Mode: Managed, Type: "google_compute_instance", Name: "vm"}},
		{"aws_x.y[0]", Address{Mode: Managed, Type: "aws_x", Name: "y", Key: IntKey(0)}},
		{"aws_x.y[12]", Address{Mode: Managed, Type: "aws_x", Name: "y", Key: IntKey(12)}},
		{`x.y["key"]`, Address{Mode: Managed, Type: "x", Name: "y", Key: StringKey("key")}},
		{`x.y["a \"b\" c"]`, Address{Mode: Managed, Type: "x", Name: "y", Key: StringKey(`a "b" c`)}},
		{"data.t.n", Address{Mode: Data, Type: "t", Name: "n"}},
		{`data.t.n["k"]`, Address{Mode: Data, Type: "t", Name: "n", Key: StringKey("k")}},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAddress(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestParseAddressErrors(t *testing.T) {
	for _, in := range []string{"", "vm", "data.t", "x.y.z", "x.y[0][1]", "x.y[1.5]", "x.y[true]", "x.y[", "x.y[-1]", "x..y"} {
		if a, err := ParseAddress(in); err == nil {
			t.Errorf("ParseAddress(%q) = %+v, want an error", in, a)
		}
	}
}

// Keys with quotes, escapes and template sequences must survive String and
// ParseAddress unchanged.
func TestAddressKeyRoundTrip(t *testing.T) {
	keys := []string{"", "plain", `q"uote`, `back\slash`, "new\nline\ttab", "${not_a_template}", "%{ if x }", "$${", "ünïcødé ✓", "\x00\x07"}
	for _, k := range keys {
		a := Address{Mode: Managed, Type: "t", Name: "n", Key: StringKey(k)}
		got, err := ParseAddress(a.String())
		if err != nil {
			t.Errorf("key %q: ParseAddress(%s): %v", k, a, err)
			continue
		}
		if got != a {
			t.Errorf("key %q: round trip through %s gave key %q", k, a, got.Key.str)
		}
	}
}

func TestIndexKeyJSON(t *testing.T) {
	for _, k := range []IndexKey{NoKey(), IntKey(0), IntKey(7), StringKey("a"), StringKey("")} {
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back IndexKey
		if err := back.UnmarshalJSON(b); err != nil || back != k {
			t.Errorf("%v → %s → %v, %v", k, b, back, err)
		}
	}
	var k IndexKey
	for _, bad := range []string{"-1", "1.5", "true", "{}"} {
		if err := k.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted", bad)
		}
	}
}
