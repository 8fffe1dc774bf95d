package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/sync/errgroup"

	"github.com/airctl/airctl/deploy/ssh"
)

// Stats says what an upload did; the rollout reports it and tests assert
// on it (a no-op deploy must send nothing).
type Stats struct {
	Present    bool  // the release was already complete on the host: nothing done
	Files      int   // files in the release
	Linked     int   // taken from releases already on the host
	SFTPWrites int   // files written over SFTP (payload and manifest)
	BytesSent  int64 // payload bytes written over SFTP
}

// UploadOptions tune Upload.
type UploadOptions struct {
	// Concurrency is how many files are sent at once (default 8).
	Concurrency int
	// OnBytes is called with the running total of payload bytes sent,
	// from several goroutines at once; for progress output and for tests
	// that cut the connection mid-upload.
	OnBytes func(total int64)
	// Now stamps the manifest (default time.Now); pruning keeps the newest.
	Now func() time.Time
}

// Upload makes release p complete on the host, given the host's state st:
// nothing if it is already there; otherwise files the host has in other
// releases are linked, the rest sent over SFTP into releases/.tmp-<name>,
// the manifest written, every file checked with sha256sum, and only then
// the directory renamed to releases/<name>.
func (h Host) Upload(ctx context.Context, p *Plan, st State, opts UploadOptions) (Stats, error) {
	m := p.Manifest()
	stats := Stats{Files: len(m.Files)}
	if st.Releases[m.Hash] != nil {
		stats.Present = true
		return stats, nil
	}
	if _, foreign := st.Foreign[m.Hash]; foreign && st.Current == m.Hash {
		return stats, fmt.Errorf("upload: current points at releases/%s, which has no valid manifest (%s); repair the host by hand", m.Hash, st.Foreign[m.Hash])
	}
	links, send := plan(p, st)
	stats.Linked = len(links)
	tmp := path.Join(h.Root, "releases", ".tmp-"+m.Hash)
	if _, err := h.Client.OutputInput(ctx, "sh -s", strings.NewReader(prepareScript(h.Root, m.Hash, dirsOf(m), links))); err != nil {
		return stats, fmt.Errorf("upload: prepare %s: %w", tmp, err)
	}
	if err := h.send(ctx, tmp, send, opts, &stats); err != nil {
		return stats, fmt.Errorf("upload: %w (the release was not activated; the host still runs its current release)", err)
	}
	m.Created = nowOf(opts)().UTC()
	if err := h.writeManifest(tmp, m, &stats); err != nil {
		return stats, fmt.Errorf("upload: %w", err)
	}
	if _, err := h.Client.OutputInput(ctx, "sh -s", strings.NewReader(finalizeScript(h.Root, m))); err != nil {
		return stats, fmt.Errorf("upload: verify and activate %s: %w", tmp, err)
	}
	return stats, nil
}

func nowOf(opts UploadOptions) func() time.Time {
	if opts.Now != nil {
		return opts.Now
	}
	return time.Now
}

// link is a file to take from another release on the host.
type link struct{ from, to string }

// plan splits p's files into those the host already has (same content and
// mode, in a complete release) and those to send.
func plan(p *Plan, st State) ([]link, []File) {
	type key struct {
		sum  string
		mode uint32
	}
	have := map[key]string{}
	names := make([]string, 0, len(st.Releases))
	for name := range st.Releases {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic choice of source
	for _, name := range names {
		for _, e := range st.Releases[name].Files {
			have[key{e.SHA256, uint32(e.Mode)}] = path.Join(name, e.Path)
		}
	}
	var links []link
	var send []File
	for _, f := range p.Files() {
		if src, ok := have[key{f.SHA256, uint32(f.Mode)}]; ok {
			links = append(links, link{from: src, to: f.Path})
			continue
		}
		send = append(send, f)
	}
	return links, send
}

func dirsOf(m Manifest) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, e := range m.Files {
		if d := path.Dir(e.Path); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// prepareScript (re)creates releases/.tmp-<name>, 0700 so nothing reads
// the env file before its mode is set, and links the files the host
// already has. A hard link costs no space and no time; cp -p covers file
// systems without them.
func prepareScript(root, name string, dirs []string, links []link) string {
	q := ssh.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "set -eu\ncd %s/releases\n", q(root))
	fmt.Fprintf(&b, "rm -rf -- .tmp-%s %s\nmkdir -m 0700 -- .tmp-%s\ncd .tmp-%s\n", name, name, name, name)
	if len(dirs) > 0 {
		b.WriteString("mkdir -p --")
		for _, d := range dirs {
			b.WriteString(" " + q(d))
		}
		b.WriteString("\n")
	}
	for _, l := range links {
		src, dst := q("../"+l.from), q(l.to)
		fmt.Fprintf(&b, "ln -- %s %s 2>/dev/null || cp -p -- %s %s\n", src, dst, src, dst)
	}
	return b.String()
}

// finalizeScript checks every file against the manifest, opens the
// directories to readers, flushes the data to disk (so a crash right after
// the switch cannot leave empty files behind current), and renames the
// directory to its release name.
func finalizeScript(root string, m Manifest) string {
	q := ssh.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "set -eu\ncd %s/releases/.tmp-%s\n", q(root), m.Hash)
	b.WriteString("sha256sum --quiet --strict -c - <<'AIRCTL_SUMS' || { echo 'files on the host do not match what was sent; deploy again' >&2; exit 4; }\n")
	for _, e := range m.Files {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Path)
	}
	b.WriteString("AIRCTL_SUMS\n")
	b.WriteString("find . -type d -exec chmod 0755 {} +\n")
	b.WriteString("sync -f . 2>/dev/null || sync\n")
	fmt.Fprintf(&b, "cd .. && mv -T -- .tmp-%s %s\n", m.Hash, m.Hash)
	return b.String()
}

// send uploads files concurrently over the connection's SFTP session.
func (h Host) send(ctx context.Context, dir string, files []File, opts UploadOptions, stats *Stats) error {
	if len(files) == 0 {
		return nil
	}
	client, err := h.Client.SFTP()
	if err != nil {
		return err
	}
	var total atomic.Int64
	var writes atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	limit := opts.Concurrency
	if limit <= 0 {
		limit = 8
	}
	g.SetLimit(limit)
	for _, f := range files {
		g.Go(func() error {
			writes.Add(1)
			return sendFile(gctx, client, path.Join(dir, f.Path), f, &total, opts.OnBytes)
		})
	}
	err = g.Wait()
	stats.SFTPWrites += int(writes.Load())
	stats.BytesSent += total.Load()
	// A dead connection explains every failed write; say that, once.
	return h.Client.Explain(err)
}

func sendFile(ctx context.Context, client *sftp.Client, remote string, f File, total *atomic.Int64, onBytes func(int64)) error {
	src, err := f.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Path, err)
	}
	defer src.Close()
	dst, err := client.Create(remote)
	if err != nil {
		return fmt.Errorf("create %s: %w", remote, err)
	}
	// ReadFromWithConcurrency pipelines writes; concurrency 0 = the
	// client's maximum.
	r := &countingReader{ctx: ctx, r: src, total: total, onBytes: onBytes}
	if _, err := dst.ReadFromWithConcurrency(r, 0); err != nil {
		_ = dst.Close()
		return fmt.Errorf("write %s: %w", remote, err)
	}
	if err := dst.Chmod(f.Mode); err != nil {
		_ = dst.Close()
		return fmt.Errorf("chmod %s: %w", remote, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("close %s: %w", remote, err)
	}
	return nil
}

// countingReader counts payload bytes and stops the copy when ctx ends:
// SFTP writes take no context, but they stop when their source does.
type countingReader struct {
	ctx     context.Context
	r       io.Reader
	total   *atomic.Int64
	onBytes func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		t := c.total.Add(int64(n))
		if c.onBytes != nil {
			c.onBytes(t)
		}
	}
	return n, err
}

func (h Host) writeManifest(dir string, m Manifest, stats *Stats) error {
	client, err := h.Client.SFTP()
	if err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	stats.SFTPWrites++
	f, err := client.Create(path.Join(dir, ManifestName))
	if err != nil {
		return fmt.Errorf("write manifest: %w", h.explain(err))
	}
	if _, err := io.Copy(f, bytes.NewReader(b)); err != nil {
		_ = f.Close()
		return fmt.Errorf("write manifest: %w", h.explain(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write manifest: %w", h.explain(err))
	}
	return nil
}

func (h Host) explain(err error) error {
	if cause := h.Client.Err(); cause != nil && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}
