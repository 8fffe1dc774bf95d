package logs

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
)

// Shipper moves a finished try's log to long-term storage and reads it
// back once the local copy is gone.
type Shipper interface {
	// Ship uploads the closed log at localPath as relPath (RelPath's
	// layout). An error means the upload is still owed: the local file is
	// kept and a later Retry ships it.
	Ship(ctx context.Context, localPath, relPath string) error
	// Open reads relPath back; the error wraps fs.ErrNotExist when there
	// is no remote copy.
	Open(ctx context.Context, relPath string) (io.ReadCloser, error)
	// Retry ships what earlier Ship calls (in this or a previous process)
	// left owed.
	Retry(ctx context.Context) error
}

// Local keeps logs on the worker's disk only: the default when no
// remote_base_log_folder is configured.
type Local struct{}

// Ship does nothing: the log already is where Local keeps it.
func (Local) Ship(context.Context, string, string) error { return nil }

// Open has no remote copy to offer.
func (Local) Open(_ context.Context, relPath string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("remote log %s: no remote log folder configured: %w", relPath, fs.ErrNotExist)
}

// Retry has nothing owed.
func (Local) Retry(context.Context) error { return nil }

// ParseRemote splits remote_base_log_folder, gs://bucket/prefix, into the
// bucket and the object-name prefix (no surrounding slashes; may be empty).
func ParseRemote(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("remote_base_log_folder %q: %w", raw, err)
	}
	if u.Scheme != "gs" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("remote_base_log_folder %q: want gs://bucket/prefix", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}
