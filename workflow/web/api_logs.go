package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// logChunk bounds one answer without full_content: a client following a
// live log asks again with the continuation token.
const logChunk = 4 << 20

// getLog is GET …/taskInstances/{task_id}/logs/{task_try_number}: the
// local log file of one try, as JSON {"content", "continuation_token"} or,
// with Accept: text/plain, as text. Without full_content it returns at
// most logChunk bytes from the token's offset (the start when absent); a
// client tailing a running task passes the token back to get what was
// written since.
func (s *Server) getLog(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	try, err := strconv.Atoi(r.PathValue("task_try_number"))
	if err != nil || try < 1 {
		s.fail(w, r, badRequest("task_try_number %q: want a whole number from 1.", r.PathValue("task_try_number")))
		return
	}
	full, _, err := boolParam(r, "full_content")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var offset int64 // full_content ignores the token and starts over
	if !full {
		if offset, err = decodeLogToken(r.URL.Query().Get("token")); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	run, err := s.getRun(ctx, r.PathValue("dag_id"), r.PathValue("dag_run_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ti, err := s.getTI(ctx, store.TIKey{DagID: run.DagID, RunID: run.RunID, TaskID: r.PathValue("task_id")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if try > max(ti.TryNumber, 1) {
		s.fail(w, r, notFound("Task try not found", "Task instance %s has started %d tries; try %d does not exist.", ti.TaskID, ti.TryNumber, try))
		return
	}
	content, next, err := s.tryLogCtx(ctx, run, ti, try, offset, full)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := encodeLogToken(next)
	if wantsText(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Continuation-Token", token)
		_, _ = io.WriteString(w, content)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": content, "continuation_token": token})
}

// tryLogCtx reads one try's log from offset (see readLog), or its shipped
// copy (RemoteLogs) when the local file is gone (delete_local_logs removes
// it once uploaded); a log found nowhere reads as a note saying so. The
// API and the task page share it.
func (s *Server) tryLogCtx(ctx context.Context, run store.DagRun, ti store.TaskInstance, try int, offset int64, full bool) (string, int64, error) {
	rel := logs.RelPath(ti.TIKey, run.LogicalDate, try)
	if !filepath.IsLocal(rel) {
		// IDs are validated at load, so this is defence in depth against a
		// path escaping the log folder.
		return "", 0, badRequest("The task's log path %q is not inside the log folder.", rel)
	}
	content, next, err := readLog(logs.LocalPath(s.logDir, rel), offset, full)
	if errors.Is(err, fs.ErrNotExist) {
		content, next, err = s.remoteLog(ctx, rel, offset, full)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("*** Log file does not exist: %s\n*** (the try has not started yet, or its local log was removed after upload)\n", rel), offset, nil
	}
	return content, next, err
}

// readLog reads from offset: everything with full, else up to logChunk
// bytes cut back to a whole UTF-8 character. It returns the offset to
// continue from.
func readLog(path string, offset int64, full bool) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("read task log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read task log: %w", err)
	}
	return readFrom(f, offset, full)
}

// readFrom reads src, which is at offset, as readLog does.
func readFrom(f io.Reader, offset int64, full bool) (string, int64, error) {
	var src io.Reader = f
	if !full {
		src = io.LimitReader(f, logChunk)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return "", 0, fmt.Errorf("read task log: %w", err)
	}
	if !full {
		b = b[:completeUTF8(b)]
	}
	return string(b), offset + int64(len(b)), nil
}

// completeUTF8 is len(b) less a trailing partial character (the rest of
// it is still being written, or falls in the next chunk).
func completeUTF8(b []byte) int {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return len(b) - i
			}
			break
		}
	}
	return len(b)
}

// The continuation token is an opaque byte offset.
func encodeLogToken(offset int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(offset, 10)))
}

func decodeLogToken(tok string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	n, perr := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || perr != nil || n < 0 {
		return 0, badRequest("token %q is not a continuation token from this API.", tok)
	}
	return n, nil
}

// wantsText reports whether Accept prefers text/plain over JSON; JSON is
// the default, as in Airflow.
func wantsText(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		switch {
		case hasMediaType(strings.TrimSpace(part), "text/plain"):
			return true
		case hasMediaType(strings.TrimSpace(part), "application/json"):
			return false
		}
	}
	return false
}
