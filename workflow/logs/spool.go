package logs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/googleapis/gax-go/v2"
)

// pending is a spool marker's content: an upload still owed. Markers live
// in their own directory, not next to the logs, so a Retry pass reads one
// small directory instead of walking every log ever kept.
type pending struct {
	Local string `json:"local"`
	Rel   string `json:"rel"`
}

const markerExt = ".pending"

// spool writes the marker for localPath (atomically: a crash never leaves
// half a marker) and returns its path, or "" with no spool configured.
func (g *GCS) spool(localPath, relPath string) (string, error) {
	if g.o.SpoolDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(g.o.SpoolDir, 0o755); err != nil {
		return "", fmt.Errorf("create log spool: %w", err)
	}
	abs, err := filepath.Abs(localPath)
	if err != nil {
		return "", fmt.Errorf("log spool: %w", err)
	}
	b, err := json.Marshal(pending{Local: abs, Rel: relPath})
	if err != nil {
		return "", fmt.Errorf("log spool: %w", err)
	}
	m := g.markerName(abs)
	tmp, err := os.CreateTemp(g.o.SpoolDir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("log spool: %w", err)
	}
	_, werr := tmp.Write(b)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("log spool: %w", err)
	}
	if err := os.Rename(tmp.Name(), m); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("log spool: %w", err)
	}
	return m, nil
}

func (g *GCS) unspool(m string) error {
	if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear log spool marker: %w", err)
	}
	return nil
}

// claim keeps a Ship and a Retry pass in this process from delivering the
// same log at once. (Two processes sharing the log folder may still both
// deliver it; that is harmless: same bytes, same object name, and every
// removal tolerates the file being gone already.)
func (g *GCS) claim(m string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inflight[m] {
		return false
	}
	g.inflight[m] = true
	return true
}

func (g *GCS) release(m string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.inflight, m)
}

// Pending lists the local paths of logs whose upload is still owed.
func (g *GCS) Pending() ([]string, error) {
	ms, err := g.markers()
	var out []string
	for _, m := range ms {
		if p, err := readMarker(m); err == nil {
			out = append(out, p.Local)
		}
	}
	return out, err
}

func (g *GCS) markers() ([]string, error) {
	if g.o.SpoolDir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(g.o.SpoolDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read log spool: %w", err)
	}
	var ms []string
	for _, e := range entries {
		name := filepath.Join(g.o.SpoolDir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), markerExt):
			ms = append(ms, name)
		case strings.HasPrefix(e.Name(), ".tmp-"):
			// Left by a crash between write and rename (an old one: a fresh
			// one may be a concurrent Ship's). Finish its rename so the log
			// it names is still shipped; drop it if it is incomplete.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
				if m, ok := g.recoverTemp(name); ok {
					ms = append(ms, m)
				}
			}
		}
	}
	return ms, nil
}

func (g *GCS) recoverTemp(tmp string) (string, bool) {
	p, err := readMarker(tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return "", false
	}
	m := g.markerName(p.Local)
	if err := os.Rename(tmp, m); err != nil {
		return "", false
	}
	return m, true
}

func (g *GCS) markerName(absLocal string) string {
	sum := sha256.Sum256([]byte(absLocal))
	return filepath.Join(g.o.SpoolDir, hex.EncodeToString(sum[:16])+markerExt)
}

func readMarker(m string) (pending, error) {
	var p pending
	b, err := os.ReadFile(m)
	if err != nil {
		return p, fmt.Errorf("read log spool marker: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Local == "" || !filepath.IsLocal(p.Rel) {
		return p, fmt.Errorf("log spool marker %s is damaged: %w", m, errors.Join(err, errors.New("bad content")))
	}
	return p, nil
}

// Retry makes one pass over the spool, delivering every owed log. It
// returns the failures joined; those logs stay owed.
func (g *GCS) Retry(ctx context.Context) error {
	ms, err := g.markers()
	errs := []error{err}
	for _, m := range ms {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		errs = append(errs, g.retryOne(ctx, m))
	}
	return errors.Join(errs...)
}

func (g *GCS) retryOne(ctx context.Context, m string) error {
	if !g.claim(m) {
		return nil
	}
	defer g.release(m)
	p, err := readMarker(m)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // another process delivered it meanwhile
	}
	if err != nil {
		// Set it aside so it stops failing every pass; the log file it
		// named, if any, is untouched.
		return errors.Join(err, os.Rename(m, m+".damaged"))
	}
	return g.deliver(ctx, m, p, true)
}

// RetryLoop runs Retry now (what a previous process left owed) and then
// every interval until ctx ends, logging failures.
func (g *GCS) RetryLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := g.Retry(ctx); err != nil && ctx.Err() == nil {
			g.o.Log.Warn("shipping owed task logs failed; will try again", "every", every, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checksum is the file's CRC32C (Castagnoli, as GCS uses) and size; it
// leaves the file at its start.
func checksum(f *os.File) (uint32, int64, error) {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, 0, fmt.Errorf("checksum log: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("checksum log: %w", err)
	}
	return h.Sum32(), n, nil
}

// gaxBackoff is the client's per-request backoff, kept well under the
// whole-upload backoff so both bounds stay meaningful.
func gaxBackoff(whole time.Duration) gax.Backoff {
	return gax.Backoff{Initial: whole / 10, Max: whole, Multiplier: 2}
}
