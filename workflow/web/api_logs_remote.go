package web

import (
	"context"
	"fmt"
	"io"
	"io/fs"
)

// RemoteLogs reads shipped task logs; logs.Shipper implements it.
type RemoteLogs interface {
	// Open reads relPath (logs.RelPath's layout); the error wraps
	// fs.ErrNotExist when there is no copy.
	Open(ctx context.Context, relPath string) (io.ReadCloser, error)
}

// remoteLog reads the shipped copy of rel from offset, like readLog. A
// client that followed the try live keeps its continuation token: the
// shipped copy has the same bytes at the same offsets.
func (s *Server) remoteLog(ctx context.Context, rel string, offset int64, full bool) (string, int64, error) {
	if s.remote == nil {
		return "", 0, fmt.Errorf("read task log: %w", fs.ErrNotExist)
	}
	rc, err := s.remote.Open(ctx, rel)
	if err != nil {
		return "", 0, fmt.Errorf("read shipped task log: %w", err)
	}
	defer rc.Close()
	// Logs are small next to a round trip; skipping beats a range request
	// that fails when offset is at or past the end.
	skipped, err := io.CopyN(io.Discard, rc, offset)
	if err == io.EOF {
		return "", offset, nil // nothing new past the token
	}
	if err != nil {
		return "", 0, fmt.Errorf("read shipped task log: %w", err)
	}
	return readFrom(rc, skipped, full)
}
