package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestFormatCanonicalizes(t *testing.T) {
	in := "resource \"a_b\" \"c\" {\nname = \"x\"\n  long_name   =   1\n    tags = { a = 1, bb = 2 }\n}\n"
	want := "resource \"a_b\" \"c\" {\n  name      = \"x\"\n  long_name = 1\n  tags      = { a = 1, bb = 2 }\n}\n"
	got, err := Format([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Format =\n%s\nwant\n%s", got, want)
	}
}

// TestFormatRoundTrip checks Format is idempotent on every testdata file,
// and that formatting does not change what a configuration means.
func TestFormatRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.tf")
	more, _ := filepath.Glob("testdata/*/*.airctl.hcl")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no testdata files")
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		once, err := FormatFile(path, src)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		twice, err := Format(once)
		if err != nil {
			t.Fatal(err)
		}
		if string(once) != string(twice) {
			t.Errorf("%s: Format is not idempotent:\n%s\n---\n%s", path, once, twice)
		}
		before, d1 := Load(".", map[string][]byte{"x.tf": src})
		after, d2 := Load(".", map[string][]byte{"x.tf": once})
		if len(d1) != len(d2) || len(before.Resources) != len(after.Resources) || len(before.Variables) != len(after.Variables) {
			t.Errorf("%s: formatting changed the configuration", path)
		}
	}
}

func TestFormatRefusesSyntaxErrors(t *testing.T) {
	_, err := FormatFile("bad.tf", []byte("resource \"a\" {\n  x = \n"))
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) || !diags.HasErrors() || diags[0].Subject.Filename != "bad.tf" {
		t.Errorf("err = %v", err)
	}
}
