package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through loading, reference extraction and
// formatting, which must report problems as diagnostics and never panic.
// `go test` runs the seed corpus (testdata files and the error cases);
// `go test -fuzz FuzzLoad` explores from there.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.tf")
	more, _ := filepath.Glob("testdata/*/*.airctl.hcl")
	for _, p := range append(paths, more...) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, tc := range loadErrorCases() {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, _ := Load("testdata/reference", map[string][]byte{"main.tf": src})
		if cfg == nil {
			t.Fatal("nil config")
		}
		for _, r := range cfg.Resources {
			_, _ = BodyReferences(r.Config)
		}
		for _, d := range cfg.Deploys {
			_, _ = BodyReferences(d.Config)
		}
		_, _ = ResolveVariables(cfg, VarOptions{Env: []string{"TF_VAR_x=1"}})
		if out, err := Format(src); err == nil {
			if _, err := Format(out); err != nil {
				t.Errorf("formatted output does not parse: %v\n%s", err, out)
			}
		}
	})
}
