package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// EndMarker is in the last line the runner writes to a try's log, after
// the outcome is stored: "[<RFC 3339 time>] aird: task ended: …".
const EndMarker = "aird: task ended: "

// IsEndLine reports whether line (without its newline) is the runner's
// final line. The "[time] " prefix makes it unlikely task output that
// merely mentions the marker ends a tail early.
func IsEndLine(line string) bool {
	i := strings.Index(line, "] "+EndMarker)
	return strings.HasPrefix(line, "[") && i > 0 && !strings.ContainsRune(line[:i], ' ')
}

// followPoll is how often Follow looks for new bytes: a log has no change
// notification that works on every platform, and a quarter second is
// live enough for a person watching.
const followPoll = 250 * time.Millisecond

// maxEndLine bounds the partial line Follow keeps to look for the end
// marker; the runner's final line is far shorter.
const maxEndLine = 4 << 10

// Follow copies the log at path to w as it grows, like tail -f, until the
// runner's end line has been copied (nil) or ctx ends (ctx.Err()). A file
// that does not exist yet is waited for: the try may still be queued. A
// file removed while followed (shipped, then deleted) is read to its end
// through the open descriptor.
func Follow(ctx context.Context, path string, w io.Writer) error {
	f, err := waitOpen(ctx, path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var line []byte // the current unfinished line, while short enough
	long := false   // the current line outgrew maxEndLine: not an end line
	for {
		n, err := f.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			for len(chunk) > 0 {
				i := bytes.IndexByte(chunk, '\n')
				if i < 0 {
					if _, werr := w.Write(chunk); werr != nil {
						return fmt.Errorf("follow log: %w", werr)
					}
					if line = append(line, chunk...); len(line) > maxEndLine {
						line, long = line[:0], true
					}
					break
				}
				if _, werr := w.Write(chunk[:i+1]); werr != nil {
					return fmt.Errorf("follow log: %w", werr)
				}
				ended := !long && IsEndLine(string(append(line, chunk[:i]...)))
				line, long, chunk = line[:0], false, chunk[i+1:]
				if ended {
					return nil
				}
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("follow log: %w", err)
		}
		if err := pause(ctx); err != nil {
			return err
		}
	}
}

// waitOpen opens path, polling until it exists or ctx ends.
func waitOpen(ctx context.Context, path string) (*os.File, error) {
	for {
		f, err := os.Open(path)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("follow log: %w", err)
		}
		if err := pause(ctx); err != nil {
			return nil, err
		}
	}
}

func pause(ctx context.Context) error {
	t := time.NewTimer(followPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
