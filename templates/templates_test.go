package templates

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// The names are the override contract with projects: renaming one silently
// turns a project's override into a stray file, so the set is pinned here.
func TestEmbeddedNames(t *testing.T) {
	got, err := fs.Glob(FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"aird-flower.service.tmpl", "aird-scheduler.service.tmpl", "aird-webserver.service.tmpl",
		"aird-webserver.socket.tmpl", "aird-worker@.service.tmpl", "aird.env.tmpl", "aird.hcl.tmpl", "redis.conf.tmpl",
	}
	if !slices.Equal(got, want) {
		t.Errorf("embedded %v, want %v", got, want)
	}
}

// Every rendered file says where it came from, so someone editing it on a
// host learns that the next deploy overwrites the edit.
func TestTemplatesAreClean(t *testing.T) {
	names, _ := fs.Glob(FS, "*.tmpl")
	for _, name := range names {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.Contains(text, "rendered by airctl from templates/"+name) && !strings.Contains(text, "Rendered by airctl from templates/"+name) {
			t.Errorf("%s: no provenance header", name)
		}
		if strings.Contains(text, "\r") || !strings.HasSuffix(text, "\n") {
			t.Errorf("%s: want LF line endings and a final newline", name)
		}
	}
}
