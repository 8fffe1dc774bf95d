package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"cloud.google.com/go/storage"
)

// GCSOptions configure a GCS shipper.
type GCSOptions struct {
	// Bucket and Prefix come from remote_base_log_folder (ParseRemote):
	// a log lands at Prefix/RelPath, the reference's
	// logs/{dag_id}/{task_id}/{ts}/{try}.log with prefix "logs".
	Bucket string
	Prefix string
	// DeleteLocal removes the local copy once the upload is verified
	// (delete_local_logs).
	DeleteLocal bool
	// SpoolDir holds one marker per upload still owed, so an upload that
	// failed, or a worker killed mid-upload, is finished by a later Retry.
	// Empty disables the spool: a failed upload then only keeps the file.
	SpoolDir string
	// Attempts bounds whole-upload attempts per Ship or per spooled log
	// in one Retry pass; default 3.
	Attempts int
	// Backoff is the wait before the second attempt, doubling after; the
	// client's own per-request retries start at a tenth of it. Default 1s.
	Backoff time.Duration
	// AttemptTimeout bounds one whole-upload attempt; default 1 minute.
	AttemptTimeout time.Duration
	Log            *slog.Logger
}

// errLocalGone marks an upload with no local file to send, told apart
// from any not-found the bucket answers.
var errLocalGone = errors.New("local log file is gone")

// clientAttempts bounds the storage client's own tries of one request.
const clientAttempts = 4

// GCS ships logs to a Cloud Storage bucket.
type GCS struct {
	bucket *storage.BucketHandle
	o      GCSOptions

	mu       sync.Mutex
	inflight map[string]bool // spool markers being worked on in this process
}

// NewGCS ships through client, which the caller owns and closes.
func NewGCS(client *storage.Client, o GCSOptions) (*GCS, error) {
	if o.Bucket == "" {
		return nil, errors.New("logs: GCS shipper needs a bucket")
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &GCS{bucket: client.Bucket(o.Bucket), o: o, inflight: map[string]bool{}}, nil
}

// ObjectName is where relPath is stored in the bucket.
func (g *GCS) ObjectName(relPath string) string {
	return path.Join(g.o.Prefix, filepath.ToSlash(relPath))
}

// Ship records the upload as owed, uploads, verifies, and only then
// deletes the local copy (if configured) and the record. The record comes
// first so that a crash at any point leaves something for Retry.
func (g *GCS) Ship(ctx context.Context, localPath, relPath string) error {
	if !filepath.IsLocal(relPath) {
		return fmt.Errorf("ship log: %q is not a relative log path", relPath)
	}
	m, err := g.spool(localPath, relPath)
	if err != nil {
		// Without a marker a failure could go unnoticed; upload anyway, as
		// the file itself is still safe on disk.
		g.o.Log.Warn("cannot record log upload as pending", "path", localPath, "err", err)
	}
	if m != "" {
		if !g.claim(m) {
			return nil // a Retry pass is shipping this very log
		}
		defer g.release(m)
	}
	return g.deliver(ctx, m, pending{Local: localPath, Rel: relPath}, false)
}

// deliver uploads with bounded retries and settles the spool marker m.
func (g *GCS) deliver(ctx context.Context, m string, p pending, retrying bool) error {
	err := g.uploadWithRetry(ctx, p.Local, g.ObjectName(p.Rel))
	if errors.Is(err, errLocalGone) {
		// Nothing left to ship. On a retry this is the normal trace of a
		// delivery that verified and deleted the file, then died before
		// removing its marker; for a fresh Ship it is the caller's error.
		var uerr error
		if m != "" {
			uerr = g.unspool(m)
		}
		if retrying {
			return uerr
		}
		return fmt.Errorf("ship log %s: %w", p.Rel, errors.Join(err, uerr))
	}
	if err != nil {
		return fmt.Errorf("ship log %s: %w (kept locally; will retry)", p.Rel, err)
	}
	if g.o.DeleteLocal {
		if err := os.Remove(p.Local); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete shipped log: %w", err)
		}
	}
	if m != "" {
		return g.unspool(m)
	}
	return nil
}

// uploadWithRetry wraps the client's per-request retries in a bounded
// loop over the whole upload, so a failure after the client gave up (or
// a checksum mismatch) gets a fresh start from the file.
func (g *GCS) uploadWithRetry(ctx context.Context, local, object string) error {
	wait := g.o.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = g.upload(ctx, local, object)
		if err == nil || errors.Is(err, errLocalGone) || attempt >= g.o.Attempts {
			return err
		}
		g.o.Log.Warn("log upload failed; retrying", "object", object, "attempt", attempt, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

// upload sends local as object once and checks the stored size and
// CRC32C against the file's.
func (g *GCS) upload(ctx context.Context, local, object string) error {
	f, err := os.Open(local)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", errLocalGone, err)
	}
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	sum, size, err := checksum(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, g.o.AttemptTimeout)
	defer cancel()
	// RetryAlways: re-sending the same bytes to the same name is
	// idempotent for us, though GCS cannot know it without preconditions.
	// The JSON upload path retries until the context ends, ignoring
	// WithMaxAttempts, so the error func counts the attempts itself.
	tries := 0
	obj := g.bucket.Object(object).Retryer(
		storage.WithPolicy(storage.RetryAlways),
		storage.WithBackoff(gaxBackoff(g.o.Backoff)),
		storage.WithMaxAttempts(clientAttempts),
		storage.WithErrorFunc(func(err error) bool {
			tries++
			return tries < clientAttempts && storage.ShouldRetry(err)
		}),
	)
	// Cancelling the writer's context is how an upload is abandoned.
	wctx, abandon := context.WithCancel(ctx)
	defer abandon()
	w := obj.NewWriter(wctx)
	w.ChunkRetryDeadline = g.o.AttemptTimeout // resumable uploads (logs over 16 MiB)
	w.ContentType = "text/plain; charset=utf-8"
	w.CRC32C, w.SendCRC32C = sum, true // GCS rejects a body that does not match
	if _, err := io.Copy(w, f); err != nil {
		abandon()
		return fmt.Errorf("upload %s: %w", object, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("upload %s: %w", object, err)
	}
	attrs := w.Attrs()
	if attrs == nil {
		if attrs, err = obj.Attrs(ctx); err != nil {
			return fmt.Errorf("verify %s: %w", object, err)
		}
	}
	if attrs.Size != size || attrs.CRC32C != sum {
		return fmt.Errorf("verify %s: stored %d bytes crc32c %08x, local %d bytes crc32c %08x", object, attrs.Size, attrs.CRC32C, size, sum)
	}
	return nil
}

// Open reads relPath from the bucket.
func (g *GCS) Open(ctx context.Context, relPath string) (io.ReadCloser, error) {
	object := g.ObjectName(relPath)
	r, err := g.bucket.Object(object).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, fmt.Errorf("remote log gs://%s/%s: %w", g.o.Bucket, object, errors.Join(fs.ErrNotExist, err))
	}
	if err != nil {
		return nil, fmt.Errorf("remote log gs://%s/%s: %w", g.o.Bucket, object, err)
	}
	return r, nil
}
