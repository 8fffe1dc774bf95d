package release

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/airctl/airctl/deploy/ssh"
)

// Host is the release root on one connected host.
type Host struct {
	Client *ssh.Client
	Root   string // absolute; holds releases/ and current
}

// State is what a host has: the current release and every complete one.
type State struct {
	Current  string               // release name current points to; "" if none
	Releases map[string]*Manifest // complete releases by name
	// Foreign are directories under releases/ without a valid manifest
	// (left by hand, or by another airctl version); never reused.
	Foreign map[string]string // name → why
}

// CurrentManifest is the manifest of the current release, nil if none.
func (s State) CurrentManifest() *Manifest { return s.Releases[s.Current] }

// StateScript prints a host's release state in the format ParseState
// reads: one line for current, then for each release directory a name line
// and its manifest on one line. It is a plain script so the deployer can
// run it in the same round trip as taking the lock.
func StateScript(root string) string {
	q := ssh.Quote
	return fmt.Sprintf(`cd %s 2>/dev/null || { echo "current "; exit 0; }
printf 'current %%s\n' "$(readlink current 2>/dev/null || true)"
for d in releases/*/; do
  [ -d "$d" ] || continue
  h=${d#releases/}; h=${h%%/}
  printf 'release %%s\n' "$h"
  if [ -f "$d"%s ]; then tr -d '\n' < "$d"%s; fi
  echo
done
`, q(root), q(ManifestName), q(ManifestName))
}

// ParseState reads StateScript's output.
func ParseState(out []byte) (State, error) {
	st := State{Releases: map[string]*Manifest{}, Foreign: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 256<<20) // manifests of big DAG folders
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "current "):
			st.Current = strings.TrimPrefix(strings.TrimPrefix(line, "current "), "releases/")
		case strings.HasPrefix(line, "release "):
			name := strings.TrimPrefix(line, "release ")
			if !sc.Scan() {
				return st, fmt.Errorf("release state: truncated after %s", name)
			}
			m, why := parseManifest(name, sc.Bytes())
			if why != "" {
				st.Foreign[name] = why
				continue
			}
			st.Releases[name] = m
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("release state: %w", err)
	}
	return st, nil
}

func parseManifest(name string, line []byte) (*Manifest, string) {
	if !ValidName(name) {
		return nil, "not a release name"
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, "no manifest"
	}
	var m Manifest
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, "unreadable manifest: " + err.Error()
	}
	if err := m.Validate(); err != nil {
		return nil, err.Error()
	}
	if m.Hash != name {
		return nil, fmt.Sprintf("manifest is for %s", m.Hash)
	}
	return &m, ""
}

// State reads the host's release state.
func (h Host) State(ctx context.Context) (State, error) {
	out, err := h.Client.OutputInput(ctx, "sh -s", strings.NewReader(StateScript(h.Root)))
	if err != nil {
		return State{}, fmt.Errorf("read releases under %s: %w", h.Root, err)
	}
	return ParseState(out)
}

// SwitchScript points current at release name atomically: a new symlink
// current.tmp is renamed over current (rename(2) replaces it in one step,
// where `ln -sfn` would unlink then create). It refuses a release that is
// not complete, and prints the release current pointed to before.
func SwitchScript(root, name string) string {
	q := ssh.Quote
	return fmt.Sprintf(`set -eu
cd %s
[ -f releases/%s/%s ] || { echo "release %s is not complete on this host; deploy it again" >&2; exit 3; }
prev=$(readlink current 2>/dev/null || true)
ln -sfn -- releases/%s current.tmp
mv -T -- current.tmp current
printf '%%s\n' "${prev#releases/}"
`, q(root), q(name), q(ManifestName), name, q(name))
}

// Switch makes release name current and returns the previous one ("" if
// none).
func (h Host) Switch(ctx context.Context, name string) (string, error) {
	if !ValidName(name) {
		return "", fmt.Errorf("switch: %q is not a release name", name)
	}
	out, err := h.Client.OutputInput(ctx, "sh -s", strings.NewReader(SwitchScript(h.Root, name)))
	if err != nil {
		return "", fmt.Errorf("switch %s to release %s: %w", path.Join(h.Root, "current"), name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Newest names the complete releases newest (by creation) first, ties by
// name.
func (s State) Newest() []string {
	names := make([]string, 0, len(s.Releases))
	for name := range s.Releases {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := s.Releases[b].Created.Compare(s.Releases[a].Created); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names
}

// PruneList picks the releases to delete so that keep remain, newest
// (by creation) first; the names in protect (current, previous) are always
// kept and count towards keep. keep below 2 is taken as 2: a host always
// keeps something to roll back to.
func PruneList(st State, keep int, protect ...string) []string {
	keep = max(keep, 2)
	names := st.Newest()
	kept := 0
	for _, p := range protect {
		if st.Releases[p] != nil {
			kept++
		}
	}
	var drop []string
	for _, name := range names {
		switch {
		case slices.Contains(protect, name):
		case kept < keep:
			kept++
		default:
			drop = append(drop, name)
		}
	}
	return drop
}

// PruneScript deletes the named releases and any abandoned upload
// directories (releases/.tmp-*), in a subshell so the caller's working
// directory stays. It must run under the deploy lock, which guarantees no
// upload is in progress.
func PruneScript(root string, names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(cd %s/releases && rm -rf -- .tmp-*", ssh.Quote(root))
	for _, n := range names {
		if ValidName(n) {
			b.WriteString(" " + ssh.Quote(n))
		}
	}
	b.WriteString(")\n")
	return b.String()
}
