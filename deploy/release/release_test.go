package release_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy/internal/sshtest"
	"github.com/airctl/airctl/deploy/release"
	"github.com/airctl/airctl/deploy/ssh"
	"github.com/airctl/airctl/internal/testenv"
)

func plan(t *testing.T, files map[string]string, units ...string) *release.Plan {
	t.Helper()
	p := release.NewPlan(units)
	for path, content := range files {
		if err := p.AddBytes(path, 0o644, []byte(content), nil); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestHashIsContentAddressed(t *testing.T) {
	a := plan(t, map[string]string{"bin/aird": "1", "dags/a.hcl": "a"})
	b := plan(t, map[string]string{"dags/a.hcl": "a", "bin/aird": "1"})
	if a.Hash() != b.Hash() || !release.ValidName(a.Hash()) {
		t.Fatalf("same content, hashes %s and %s", a.Hash(), b.Hash())
	}
	for _, other := range []*release.Plan{
		plan(t, map[string]string{"bin/aird": "2", "dags/a.hcl": "a"}),
		plan(t, map[string]string{"bin/aird": "1", "dags/b.hcl": "a"}),
		plan(t, map[string]string{"bin/aird": "1", "dags/a.hcl": "a"}, "x.service"),
	} {
		if other.Hash() == a.Hash() {
			t.Errorf("different content, same hash %s", a.Hash())
		}
	}
}

func TestChangedByCategory(t *testing.T) {
	base := map[string]string{"bin/aird": "1", "config/aird.hcl": "c", "units/a.service": "u", "dags/a.hcl": "a"}
	m := func(edit func(map[string]string), units ...string) *release.Manifest {
		files := map[string]string{}
		for k, v := range base {
			files[k] = v
		}
		edit(files)
		mf := plan(t, files, units...).Manifest()
		return &mf
	}
	old := m(func(map[string]string) {}, "a.service")
	for _, tc := range []struct {
		name string
		new  *release.Manifest
		want []release.Category
	}{
		{"same", m(func(map[string]string) {}, "a.service"), nil},
		{"dag edited", m(func(f map[string]string) { f["dags/a.hcl"] = "A" }, "a.service"), []release.Category{release.Dags}},
		{"dag added", m(func(f map[string]string) { f["dags/b.hcl"] = "b" }, "a.service"), []release.Category{release.Dags}},
		{"binary", m(func(f map[string]string) { f["bin/aird"] = "2" }, "a.service"), []release.Category{release.Binary}},
		{"unit list", m(func(map[string]string) {}, "a.service", "b.service"), []release.Category{release.Units}},
		{"config and dags", m(func(f map[string]string) { f["config/aird.hcl"] = "C"; delete(f, "dags/a.hcl") }, "a.service"), []release.Category{release.Config, release.Dags}},
	} {
		if got := release.Changed(old, tc.new); !slices.Equal(got, tc.want) {
			t.Errorf("%s: changed %v; want %v", tc.name, got, tc.want)
		}
	}
	if got := release.Changed(nil, old); !slices.Equal(got, release.Categories) {
		t.Errorf("first deploy: changed %v; want all", got)
	}
}

func TestPlanRefusesUnsafePaths(t *testing.T) {
	for _, p := range []string{"", "/etc/passwd", "../x", "bin/../../x", "other/x", "bin", "dags/a\nb", `dags/a\b`, "dags//a"} {
		if err := release.NewPlan(nil).AddBytes(p, 0o644, nil, nil); err == nil {
			t.Errorf("AddBytes(%q) accepted", p)
		}
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"a.hcl": "a", "sub/b.hcl": "b", ".git/config": "x", ".hidden.hcl": "x"} {
		path := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := release.NewPlan(nil)
	if err := p.AddDir("dags", dir); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range p.Files() {
		paths = append(paths, f.Path)
	}
	if !slices.Equal(paths, []string{"dags/a.hcl", "dags/sub/b.hcl"}) {
		t.Fatalf("AddDir took %q", paths)
	}
}

func TestPruneListKeepsNewestAndProtected(t *testing.T) {
	st := release.State{Releases: map[string]*release.Manifest{}}
	now := time.Now()
	names := []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd", "eeeeeeeeeeeeeeee"}
	for i, n := range names { // a oldest … e newest
		st.Releases[n] = &release.Manifest{Hash: n, Created: now.Add(time.Duration(i) * time.Minute)}
	}
	if got := release.PruneList(st, 3, "eeeeeeeeeeeeeeee", "dddddddddddddddd"); !slices.Equal(got, []string{names[1], names[0]}) {
		t.Errorf("keep 3: drop %q", got)
	}
	// A rollback made the oldest current again: it and the newest stay.
	got := release.PruneList(st, 2, "aaaaaaaaaaaaaaaa", "eeeeeeeeeeeeeeee")
	if !slices.Equal(got, []string{"dddddddddddddddd", "cccccccccccccccc", "bbbbbbbbbbbbbbbb"}) {
		t.Errorf("keep 2 protecting a and e: drop %q", got)
	}
	if got := release.PruneList(st, 0, "eeeeeeeeeeeeeeee"); len(got) != 3 {
		t.Errorf("keep 0 acts as 2: drop %q", got)
	}
}

func TestParseStateSetsAsideForeignDirs(t *testing.T) {
	good := plan(t, map[string]string{"bin/aird": "1"}).Manifest()
	b, _ := json.Marshal(good)
	line := string(b)
	out := "current releases/" + good.Hash + "\n" +
		"release " + good.Hash + "\n" + line + "\n" +
		"release 0123456789abcdef\n\n" +
		"release not-a-release\n{}\n" +
		"release fedcba9876543210\n" + line + "\n"
	st, err := release.ParseState([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != good.Hash || st.CurrentManifest() == nil || len(st.Releases) != 1 {
		t.Fatalf("state %+v", st)
	}
	for _, name := range []string{"0123456789abcdef", "not-a-release", "fedcba9876543210"} {
		if _, ok := st.Foreign[name]; !ok {
			t.Errorf("%s not set aside (%v)", name, st.Foreign)
		}
	}
}

// host is a release root on a real sshd, owned by its login user.
func host(t *testing.T) (release.Host, string) {
	t.Helper()
	srv := testenv.SSHD(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := ssh.Dial(ctx, ssh.Config{Addr: srv.Addr, User: srv.User, Auth: ssh.Auth{KeyFile: srv.ClientKeyPath}, KnownHostsFile: srv.KnownHostsPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	root := filepath.Join(sshtest.OwnedTempDir(t, srv.User), "root")
	if _, err := c.Output(ctx, "mkdir -p "+ssh.Quote(root+"/releases")); err != nil {
		t.Fatal(err)
	}
	return release.Host{Client: c, Root: root}, srv.User
}

func upload(t *testing.T, h release.Host, p *release.Plan) (release.Stats, error) {
	t.Helper()
	ctx := context.Background()
	st, err := h.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h.Upload(ctx, p, st, release.UploadOptions{})
}

func TestUploadReusesHostFilesAndVerifiesThem(t *testing.T) {
	h, _ := host(t)
	a := plan(t, map[string]string{"bin/aird": strings.Repeat("b", 100<<10), "dags/a.hcl": "a", "config/aird.env": "S=1"})
	stats, err := upload(t, h, a)
	if err != nil || stats.SFTPWrites != 4 || stats.BytesSent != 100<<10+4 {
		t.Fatalf("first upload %+v, %v", stats, err)
	}
	if stats, err := upload(t, h, a); err != nil || !stats.Present || stats.SFTPWrites != 0 {
		t.Fatalf("re-upload %+v, %v; want nothing done", stats, err)
	}
	b := plan(t, map[string]string{"bin/aird": strings.Repeat("b", 100<<10), "dags/a.hcl": "a", "config/aird.env": "S=1", "dags/b.hcl": "b"})
	stats, err = upload(t, h, b)
	if err != nil || stats.Linked != 3 || stats.SFTPWrites != 2 || stats.BytesSent != 1 {
		t.Fatalf("second upload %+v, %v; want 3 linked, 1 file + manifest sent", stats, err)
	}
	if _, err := h.Switch(context.Background(), b.Hash()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(h.Root, "current", "dags", "b.hcl")); string(got) != "b" {
		t.Fatalf("current/dags/b.hcl = %q", got)
	}

	// A file on the host no longer matching its manifest is not trusted:
	// the new release fails verification and never appears.
	aird := filepath.Join(h.Root, "releases", a.Hash(), "bin", "aird")
	if err := os.WriteFile(aird, []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := plan(t, map[string]string{"bin/aird": strings.Repeat("b", 100<<10), "dags/c.hcl": "c"})
	if _, err := upload(t, h, c); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Fatalf("upload over a tampered file = %v; want a verification failure", err)
	}
	if _, err := os.Stat(filepath.Join(h.Root, "releases", c.Hash())); !os.IsNotExist(err) {
		t.Fatalf("unverified release exists: %v", err)
	}
}

func TestSwitchIsAtomicAndRefusesIncompleteRelease(t *testing.T) {
	h, _ := host(t)
	ctx := context.Background()
	a := plan(t, map[string]string{"bin/aird": "a"})
	b := plan(t, map[string]string{"bin/aird": "b"})
	for _, p := range []*release.Plan{a, b} {
		if _, err := upload(t, h, p); err != nil {
			t.Fatal(err)
		}
	}
	if prev, err := h.Switch(ctx, a.Hash()); err != nil || prev != "" {
		t.Fatalf("first switch: %q, %v", prev, err)
	}
	if prev, err := h.Switch(ctx, b.Hash()); err != nil || prev != a.Hash() {
		t.Fatalf("second switch: %q, %v; want previous %s", prev, err, a.Hash())
	}
	if fi, err := os.Lstat(filepath.Join(h.Root, "current")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("current: %v, %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(h.Root, "current.tmp")); !os.IsNotExist(err) {
		t.Fatalf("current.tmp left: %v", err)
	}
	if _, err := h.Switch(ctx, "0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "not complete") {
		t.Fatalf("switch to a missing release = %v", err)
	}
	if target, _ := os.Readlink(filepath.Join(h.Root, "current")); target != "releases/"+b.Hash() {
		t.Fatalf("current moved to %s after a refused switch", target)
	}
}
