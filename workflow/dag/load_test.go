package dag

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const badSrc = `dag "broken" {
  schedule = "every day"
  task "t" { command = "true" }
}

dag "innocent" {
  task "t" { command = "true" }
}
`

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"good.hcl":              exampleSrc,
		"bad.hcl":               badSrc,
		"team/nested.hcl":       `dag "nested" {}`,
		"team/README.md":        "not a DAG",
		".git/hooks.hcl":        badSrc, // hidden dir: skipped
		"..data/linked.hcl":     badSrc, // ConfigMap-style hidden dir: skipped
		"team/.#editing.hcl":    badSrc, // hidden file: skipped
		"empty.hcl":             "",
		"team/deeper/multi.hcl": "dag \"m1\" {}\ndag \"m2\" {}\n",
	})
	b, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(b.DAGs)), []string{"etl_daily", "m1", "m2", "nested"}; !reflect.DeepEqual(got, want) {
		t.Errorf("DAGs = %q, want %q", got, want)
	}
	badPath := filepath.Join(dir, "bad.hcl")
	if got := slices.Sorted(maps.Keys(b.Errors)); !reflect.DeepEqual(got, []string{badPath}) {
		t.Fatalf("Errors for %q, want only %s", got, badPath)
	}
	if e := b.Errors[badPath][0]; e.Summary != "Invalid schedule" || e.Subject.Start.Line != 2 {
		t.Errorf("bad.hcl error = %s", e)
	}
	if len(b.Files) != 5 || b.Files[badPath] == nil {
		t.Errorf("Files has %d entries, want 5 including bad.hcl", len(b.Files))
	}
	if got := b.DAGs["etl_daily"].File; got != filepath.Join(dir, "good.hcl") {
		t.Errorf("File = %s", got)
	}
}

func TestLoadDirDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.hcl":     `dag "shared" {}`,
		"b/b.hcl":   "dag \"other\" {}\n\ndag \"shared\" {}\n",
		"c.hcl":     `dag "other" {}`,
		"z/bad.hcl": `dag "z" { oops = 1 }`,
	})
	b, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// b/b.hcl sorts after a.hcl, so it is the duplicate and loads nothing;
	// its "other" is then free for c.hcl.
	if got := slices.Sorted(maps.Keys(b.DAGs)); !reflect.DeepEqual(got, []string{"other", "shared"}) {
		t.Errorf("DAGs = %q", got)
	}
	if got := b.DAGs["other"].File; got != filepath.Join(dir, "c.hcl") {
		t.Errorf("other from %s, want c.hcl", got)
	}
	diags := b.Errors[filepath.Join(dir, "b", "b.hcl")]
	if len(diags) != 1 {
		t.Fatalf("b.hcl diagnostics: %v", diags)
	}
	e := diags[0]
	wantDetail := `DAG "shared" is already defined at ` + filepath.Join(dir, "a.hcl") + ":1,1-13."
	if e.Summary != "Duplicate dag ID" || e.Detail != wantDetail || e.Subject.Start.Line != 3 {
		t.Errorf("got %s: %s at %s", e.Summary, e.Detail, e.Subject)
	}
}

func TestLoadDirErrors(t *testing.T) {
	if _, err := LoadDir(context.Background(), filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: err = %v, want ErrNotExist", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.hcl": `dag "a" {}`})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadDir(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestLoadDirUnreadableFile(t *testing.T) {
	// A dangling symlink fails to read even as root, unlike a chmod 0 file.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.hcl": `dag "a" {}`})
	if err := os.Symlink("nowhere.hcl", filepath.Join(dir, "b.hcl")); err != nil {
		t.Skip(err)
	}
	b, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	diags := b.Errors[filepath.Join(dir, "b.hcl")]
	if b.DAGs["a"] == nil || len(diags) != 1 || diags[0].Summary != "Failed to read DAG file" {
		t.Errorf("DAGs %v, Errors %v", b.DAGs, b.Errors)
	}
}

func TestLoadDirSymlinkedFile(t *testing.T) {
	// Kubernetes ConfigMap mounts: visible symlinks into a hidden ..data dir.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"..data/x.hcl": `dag "x" {}`})
	if err := os.Symlink(filepath.Join("..data", "x.hcl"), filepath.Join(dir, "x.hcl")); err != nil {
		t.Skip(err)
	}
	b, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.DAGs) != 1 || b.DAGs["x"] == nil || len(b.Errors) != 0 {
		t.Errorf("DAGs %v, Errors %v", b.DAGs, b.Errors)
	}
}

func TestFormatErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.hcl": badSrc, "worse.hcl": `dag "w" {`})
	b, err := LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	b.FormatErrors(&buf, false)
	out := buf.String()
	for _, want := range []string{
		"Error: Invalid schedule",
		"on " + filepath.Join(dir, "bad.hcl") + " line 2, in dag \"broken\":",
		`2:   schedule = "every day"`,
		"Error: Unclosed configuration block",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "bad.hcl") > strings.Index(out, "worse.hcl") {
		t.Error("files not in lexical order")
	}
}
