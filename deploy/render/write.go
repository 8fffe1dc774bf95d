package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// WriteDir writes files under dir, mirroring their host paths
// (/etc/aird/aird.hcl → dir/etc/aird/aird.hcl), for `airctl render -out DIR`
// and for tests. Modes are kept; owners are not (that needs root, and the
// review copy belongs to whoever rendered it).
//
// Every file is written to a temp file (created 0600) in its directory,
// given its final mode, then renamed: a re-render over an existing,
// looser-moded file never exposes the env file's content, and a reader never
// sees half a file.
func WriteDir(dir string, files []File) error {
	for _, f := range files {
		target, err := localPath(dir, f.Path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("render: write %s: %w", f.Path, err)
		}
		if err := writeAtomic(target, f); err != nil {
			return fmt.Errorf("render: write %s: %w", f.Path, err)
		}
	}
	return nil
}

// localPath maps an absolute host path into dir, refusing anything that
// would land outside it.
func localPath(dir, hostPath string) (string, error) {
	rel := strings.TrimPrefix(path.Clean(hostPath), "/")
	if !path.IsAbs(hostPath) || rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("render: file path %q: want an absolute path below /", hostPath)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
}

func writeAtomic(target string, f File) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(target), ".airctl-render-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(f.Content); err != nil {
		return err
	}
	// Chmod after CreateTemp's 0600, not via the umask-filtered create mode,
	// so the mode is exactly the one the host will get.
	if err = tmp.Chmod(f.Mode.Perm()); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// Hash is a content hash of files for naming a release: sha256 over the
// files sorted by path, each as length-prefixed path, mode, owner, group and
// content, so no two different sets can share a byte stream. Order of files
// does not matter. It covers secrets too (rotating a password is a new
// release); the digest reveals nothing about them.
func Hash(files []File) string {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	h := sha256.New()
	for _, f := range sorted {
		writeField(h, []byte(f.Path))
		writeField(h, binary.BigEndian.AppendUint32(nil, uint32(f.Mode)))
		writeField(h, []byte(f.Owner))
		writeField(h, []byte(f.Group))
		writeField(h, f.Content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, b []byte) {
	_, _ = h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
	_, _ = h.Write(b)
}
