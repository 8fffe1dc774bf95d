package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/testprovider"
)

func runArgs(t *testing.T, extra map[string]provision.Factory, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, nil, extra)
	return code, out.String(), errOut.String()
}

func TestRunHelpVersionAndUnknown(t *testing.T) {
	if code, out, _ := runArgs(t, nil, "--help"); code != 0 || !strings.Contains(out, "Usage: airctl") {
		t.Fatalf("--help: code %d, out %q", code, out)
	}
	if code, out, _ := runArgs(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "airctl ") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
	if code, _, errOut := runArgs(t, nil, "bogus"); code != 1 || !strings.Contains(errOut, `unknown command "bogus"`) {
		t.Fatalf("bogus: code %d, err %q", code, errOut)
	}
}

// TestBuiltinProvidersWired applies a configuration with the built-in
// providers through the real binary's wiring, without -auto-approve in a
// non-terminal first (refused), then with it.
func TestBuiltinProvidersWired(t *testing.T) {
	dir := t.TempDir()
	cfg := `
resource "random_integer" "port" {
  min = 8000
  max = 8999
}
resource "terraform_data" "marker" {
  triggers_replace = random_integer.port.result
}
output "port" { value = random_integer.port.result }
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runArgs(t, nil, "-chdir="+dir, "apply"); code != 1 || !strings.Contains(errOut, "-auto-approve") {
		t.Fatalf("apply without -auto-approve off a terminal: code %d, stderr %s", code, errOut)
	}
	code, out, errOut := runArgs(t, nil, "-chdir="+dir, "apply", "-auto-approve")
	if code != 0 || !strings.Contains(out, "Apply complete! Resources: 2 added") {
		t.Fatalf("apply: code %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := runArgs(t, nil, "-chdir="+dir, "output", "-raw", "port"); code != 0 || !strings.HasPrefix(out, "8") {
		t.Fatalf("output -raw port: code %d, %q", code, out)
	}
}

// TestExtraProvidersHook checks the hook tests use to add the test
// provider, and that the real wiring does not include it.
func TestExtraProvidersHook(t *testing.T) {
	if _, ok := builtinProviders()["test"]; ok {
		t.Fatal("the real binary must not ship the test provider")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(`resource "test_thing" "a" { name = "a" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runArgs(t, nil, "-chdir="+dir, "validate"); code != 1 || !strings.Contains(errOut, `no "test" provider`) {
		t.Fatalf("validate without the test provider: code %d, %s", code, errOut)
	}
	tp := testprovider.New()
	extra := map[string]provision.Factory{"test": func() provider.Provider { return tp }}
	if code, out, errOut := runArgs(t, extra, "-chdir="+dir, "validate"); code != 0 {
		t.Fatalf("validate with the test provider: code %d\n%s%s", code, out, errOut)
	}
}
