package operator

import (
	"bytes"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

// LastLine is an io.Writer that remembers the last non-empty line written
// to it (a task's stdout), holding at most one line in memory. A line
// longer than the output limit is remembered as too long, so the limit
// error can say so instead of storing a truncated value.
type LastLine struct {
	cur, last []byte
	curLong   bool
	lastLong  bool
}

func (l *LastLine) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if len(l.cur)+len(chunk) > store.MaxTaskOutputSize {
			l.curLong = true
		} else {
			l.cur = append(l.cur, chunk...)
		}
		if i < 0 {
			break
		}
		l.endLine()
		rest = rest[i+1:]
	}
	return len(p), nil
}

func (l *LastLine) endLine() {
	if l.curLong || len(bytes.TrimSpace(l.cur)) > 0 {
		l.last = append(l.last[:0], bytes.TrimRight(l.cur, "\r")...)
		l.lastLong = l.curLong
	}
	l.cur, l.curLong = l.cur[:0], false
}

// Line returns the last non-empty line, counting an unterminated final
// line, or an error when it exceeds the output limit.
func (l *LastLine) Line() (string, error) {
	if l.curLong || len(bytes.TrimSpace(l.cur)) > 0 {
		l.endLine()
	}
	if l.lastLong {
		return "", fmt.Errorf("the last line of output is longer than the %d KiB output limit; write a smaller result to $AIRD_OUTPUT_FILE, or keep large data in a file or bucket and output its path", store.MaxTaskOutputSize>>10)
	}
	return string(l.last), nil
}

// CheckOutputSize enforces the output size limit on an output of size
// bytes, with a message saying what to do instead.
func CheckOutputSize(size int64) error {
	if size > store.MaxTaskOutputSize {
		return fmt.Errorf("task output is %d bytes, over the %d KiB limit of outputs kept in the metadata DB; output a smaller result, such as the path of a file or object holding the data", size, store.MaxTaskOutputSize>>10)
	}
	return nil
}
