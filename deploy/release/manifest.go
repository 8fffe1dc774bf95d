// Package release manages content-addressed releases on a host:
//
//	<root>/releases/<hash>/{bin,config,units,dags}/...   one directory per release
//	<root>/releases/<hash>/.airctl-manifest.json         what it holds, written last
//	<root>/current -> releases/<hash>                    what runs, switched by rename
//
// A release directory appears under its final name only once every file
// is in place and verified (it is built as releases/.tmp-<hash> and renamed),
// so a dropped connection never leaves a half release, and a release that
// exists is never uploaded again. Files the host already has in another
// release (same sha256 and mode) are hard-linked there instead of sent.
package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ManifestName is the manifest's file name inside a release directory.
const ManifestName = ".airctl-manifest.json"

// manifestVersion changes when the format does; older airctl versions then
// treat the release as foreign rather than misread it.
const manifestVersion = 1

// hashLen is the length of a release name in hex digits: 64 bits, far
// beyond any number of releases a host keeps, and short enough to read.
const hashLen = 16

// Category is what part of a release a file belongs to, by its top
// directory; a deploy restarts services according to which changed.
type Category string

const (
	Binary Category = "binary" // bin/
	Config Category = "config" // config/
	Units  Category = "units"  // units/ (and the list of units to enable)
	Dags   Category = "dags"   // dags/
)

// Categories lists every category in a stable order.
var Categories = []Category{Binary, Config, Units, Dags}

var topDirs = map[string]Category{"bin": Binary, "config": Config, "units": Units, "dags": Dags}

// CategoryOf returns the category of a release-relative path.
func CategoryOf(p string) (Category, bool) {
	top, _, _ := strings.Cut(p, "/")
	c, ok := topDirs[top]
	return c, ok
}

// Entry is one file of a release.
type Entry struct {
	Path   string      `json:"path"` // relative to the release directory
	Mode   fs.FileMode `json:"mode"` // permission bits in the release
	Size   int64       `json:"size"`
	SHA256 string      `json:"sha256"`
	// Install, when set, says the file is also copied to a system path
	// (unit directory, /etc/aird) whenever this release becomes current.
	Install *Install `json:"install,omitempty"`
}

// Install is where a release file is copied on the host and with which
// metadata. Recording it in the manifest lets a rollback reinstall an old
// release's files with nothing but what is on the host.
type Install struct {
	Path  string      `json:"path"`
	Mode  fs.FileMode `json:"mode"`
	Owner string      `json:"owner"`
	Group string      `json:"group"`
}

// Manifest describes a release.
type Manifest struct {
	Version int       `json:"version"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	// Units are the systemd units this release runs, in start order; a
	// deploy enables new ones and disables dropped ones.
	Units []string `json:"units,omitempty"`
	Files []Entry  `json:"files"`
}

// identity is the part of a manifest the hash covers: everything but the
// hash itself and when it was created.
type identity struct {
	Units []string `json:"units"`
	Files []Entry  `json:"files"`
}

// ComputeHash is the release name for m's content.
func (m Manifest) ComputeHash() string {
	files := slices.Clone(m.Files)
	slices.SortFunc(files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	b, _ := json.Marshal(identity{Units: m.Units, Files: files}) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// Lookup returns the entry for a release-relative path.
func (m *Manifest) Lookup(p string) (Entry, bool) {
	if m == nil {
		return Entry{}, false
	}
	for _, e := range m.Files {
		if e.Path == p {
			return e, true
		}
	}
	return Entry{}, false
}

// CategoryHash is a digest of one category's entries (for units, also of
// the unit list), so two manifests can be compared category by category.
func (m *Manifest) CategoryHash(c Category) string {
	if m == nil {
		return ""
	}
	sub := Manifest{}
	if c == Units {
		sub.Units = m.Units
	}
	for _, e := range m.Files {
		if got, _ := CategoryOf(e.Path); got == c {
			sub.Files = append(sub.Files, e)
		}
	}
	if len(sub.Files) == 0 && len(sub.Units) == 0 {
		return ""
	}
	return sub.ComputeHash()
}

// Changed lists the categories that differ between two releases, in the
// order of Categories; a nil from (first deploy) differs in every category
// that to has.
func Changed(from, to *Manifest) []Category {
	var out []Category
	for _, c := range Categories {
		if from.CategoryHash(c) != to.CategoryHash(c) {
			out = append(out, c)
		}
	}
	return out
}

var (
	hexRe      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	releaseRe  = regexp.MustCompile(`^[0-9a-f]{16}$`)
	errBadPath = errors.New("want a clean relative path under bin/, config/, units/ or dags/ without newlines or backslashes")
)

// ValidName reports whether s looks like a release name.
func ValidName(s string) bool { return releaseRe.MatchString(s) }

// checkPath refuses paths that could escape the release directory or
// break the line-based formats (sha256sum lists, shell scripts) they pass
// through.
func checkPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." ||
		strings.ContainsAny(p, "\n\r\\\x00") {
		return fmt.Errorf("release path %q: %w", p, errBadPath)
	}
	if _, ok := CategoryOf(p); !ok || !strings.Contains(p, "/") {
		return fmt.Errorf("release path %q: %w", p, errBadPath)
	}
	return nil
}

// Validate checks a manifest read from a host before anything trusts it.
func (m *Manifest) Validate() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("manifest version %d, this airctl reads %d", m.Version, manifestVersion)
	}
	seen := map[string]bool{}
	for _, e := range m.Files {
		if err := checkPath(e.Path); err != nil {
			return err
		}
		if seen[e.Path] {
			return fmt.Errorf("manifest lists %s twice", e.Path)
		}
		seen[e.Path] = true
		if !hexRe.MatchString(e.SHA256) {
			return fmt.Errorf("manifest entry %s: bad sha256", e.Path)
		}
	}
	if got := m.ComputeHash(); got != m.Hash {
		return fmt.Errorf("manifest says release %s but its content hashes to %s", m.Hash, got)
	}
	return nil
}
