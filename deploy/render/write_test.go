package render

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteDirMirrorsPathsAndModes(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	dir := t.TempDir()
	// A stale, world-readable env file from an earlier render must not keep
	// its mode (nor ever hold the new secrets with it).
	stale := filepath.Join(dir, "etc", "aird", "aird.env")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != f.Mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), f.Mode)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, f.Content) {
			t.Errorf("%s: content differs (%v)", p, err)
		}
	}
	var leftovers []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".airctl-render-") {
			leftovers = append(leftovers, p)
		}
		return err
	})
	if len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

func TestWriteDirRefusesEscapingPaths(t *testing.T) {
	for _, p := range []string{"relative/x", "/", "/../../etc/passwd"} {
		err := WriteDir(t.TempDir(), []File{{Path: p, Mode: 0o644}})
		if p == "/../../etc/passwd" {
			// path.Clean keeps it below the root: /etc/passwd inside dir.
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("WriteDir accepted path %q", p)
		}
	}
}

func TestHashDeterministic(t *testing.T) {
	a := mustRender(t, testSettings(), nil)
	h := Hash(a)
	if len(h) != 64 || h != Hash(mustRender(t, testSettings(), nil)) {
		t.Fatalf("hash %q not stable across renders", h)
	}
	reversed := slices.Clone(a)
	slices.Reverse(reversed)
	if Hash(reversed) != h {
		t.Error("hash depends on file order")
	}
	change := func(what string, mutate func(*File)) {
		t.Helper()
		b := slices.Clone(a)
		b[0].Content = slices.Clone(b[0].Content)
		mutate(&b[0])
		if Hash(b) == h {
			t.Errorf("hash unchanged after changing %s", what)
		}
	}
	change("content", func(f *File) { f.Content = append(f.Content, '\n') })
	change("mode", func(f *File) { f.Mode = 0o600 })
	change("path", func(f *File) { f.Path += ".d" })
	change("owner", func(f *File) { f.Owner = "aird" })
	// Field boundaries are length-prefixed: moving bytes between path and
	// content must change the hash.
	x := []File{{Path: "/a", Content: []byte("bc")}}
	y := []File{{Path: "/ab", Content: []byte("c")}}
	if Hash(x) == Hash(y) {
		t.Error("hash ambiguous across field boundaries")
	}
}

func TestEnableUnits(t *testing.T) {
	s := testSettings()
	s.WorkerInstances = 2
	want := []string{"aird-scheduler.service", "aird-webserver.socket", "aird-webserver.service", "aird-worker@1.service", "aird-worker@2.service", "aird-flower.service"}
	if got := s.EnableUnits(); !slices.Equal(got, want) {
		t.Errorf("EnableUnits = %v", got)
	}
}
