package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// File is a local file to ship: its manifest entry and how to read it.
type File struct {
	Entry
	open func() (io.ReadCloser, error)
}

// Open reads the file's content.
func (f File) Open() (io.ReadCloser, error) { return f.open() }

// Plan is the set of files a release consists of, hashed as they are
// added; Manifest names the release by their content.
type Plan struct {
	files map[string]File
	units []string
}

// NewPlan returns an empty plan whose release enables units (in start
// order).
func NewPlan(units []string) *Plan {
	return &Plan{files: map[string]File{}, units: slices.Clone(units)}
}

func (p *Plan) add(f File) error {
	if err := checkPath(f.Path); err != nil {
		return err
	}
	if _, dup := p.files[f.Path]; dup {
		return fmt.Errorf("release: two files for %s", f.Path)
	}
	p.files[f.Path] = f
	return nil
}

// AddBytes adds in-memory content (rendered config and units).
func (p *Plan) AddBytes(relPath string, mode fs.FileMode, content []byte, install *Install) error {
	sum := sha256.Sum256(content)
	content = slices.Clone(content)
	return p.add(File{
		Entry: Entry{Path: relPath, Mode: mode.Perm(), Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Install: install},
		open:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
	})
}

// AddFile adds a local file (the aird binary), hashing it now. The host
// verifies every file against this hash before the release goes live, so
// a file that changes locally mid-deploy fails the deploy instead of
// shipping something else under this release's name.
func (p *Plan) AddFile(relPath, local string, mode fs.FileMode, install *Install) error {
	sum, size, err := hashFile(local)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return p.add(File{
		Entry: Entry{Path: relPath, Mode: mode.Perm(), Size: size, SHA256: sum, Install: install},
		open:  func() (io.ReadCloser, error) { return os.Open(local) },
	})
}

// AddDir adds every regular file under local (the DAG folder) below
// prefix. Names starting with "." (.git, editor files) are skipped;
// executables keep their x bit (0755), everything else is 0644.
func (p *Plan) AddDir(prefix, local string) error {
	return filepath.WalkDir(local, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("release: %w", err)
		}
		if name != local && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(name) // follows a symlink to its file
		if err != nil {
			return fmt.Errorf("release: %w", err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("release: %s is not a regular file (symlinked directories and special files are not shipped)", name)
		}
		rel, err := filepath.Rel(local, name)
		if err != nil {
			return fmt.Errorf("release: %w", err)
		}
		mode := fs.FileMode(0o644)
		if info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		return p.AddFile(path.Join(prefix, filepath.ToSlash(rel)), name, mode, nil)
	})
}

func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Files returns the plan's files sorted by path.
func (p *Plan) Files() []File {
	files := make([]File, 0, len(p.files))
	for _, f := range p.files {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files
}

// Manifest describes the plan; Created is left for the upload to set.
func (p *Plan) Manifest() Manifest {
	m := Manifest{Version: manifestVersion, Units: slices.Clone(p.units)}
	for _, f := range p.Files() {
		m.Files = append(m.Files, f.Entry)
	}
	m.Hash = m.ComputeHash()
	return m
}

// Hash is the release's name.
func (p *Plan) Hash() string { return p.Manifest().Hash }
