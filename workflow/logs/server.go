package logs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The worker log server (Airflow's serve_logs on port 8793): each worker
// serves the task logs in its log folder, so the webserver can show a try
// that is still running, or whose upload has not happened yet, from the
// worker that runs it. Requests carry a short-lived token, an HMAC of the
// log's path with the secret the webserver and workers share (Airflow
// signs a JWT with the webserver's secret_key the same way).

// DefaultWorkerLogPort is Airflow's worker_log_server_port.
const DefaultWorkerLogPort = 8793

// tokenTTL bounds how long a signed request may be replayed; the clocks of
// the webserver and workers must agree to well within it.
const tokenTTL = 30 * time.Second

// sign is the token for relPath valid until exp: "<unix exp>.<hex HMAC>".
func sign(secret []byte, relPath string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(e + "\x00" + relPath))
	return e + "." + hex.EncodeToString(mac.Sum(nil))
}

// verify checks a token made by sign for relPath at now.
func verify(secret []byte, relPath, token string, now time.Time) bool {
	e, _, ok := strings.Cut(token, ".")
	exp, err := strconv.ParseInt(e, 10, 64)
	if !ok || err != nil || now.Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(token), []byte(sign(secret, relPath, time.Unix(exp, 0))))
}

// WorkerServer serves GET /log/<relPath> from Dir to holders of a token
// signed with Secret. It answers 404 for a log that is not there.
type WorkerServer struct {
	Dir    string
	Secret []byte
	now    func() time.Time
}

func (s *WorkerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, "/log/")
	if r.Method != http.MethodGet || !ok {
		http.NotFound(w, r)
		return
	}
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if len(s.Secret) == 0 || !verify(s.Secret, rel, token, now()) {
		http.Error(w, "invalid or expired log token: the webserver and the workers must share webserver.secret_key (AIRD_WEBSERVER_SECRET_KEY) and agree on the time", http.StatusForbidden)
		return
	}
	if !filepath.IsLocal(rel) || !strings.HasSuffix(rel, ".log") {
		http.Error(w, "not a task log path", http.StatusBadRequest)
		return
	}
	f, err := os.Open(LocalPath(s.Dir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.Copy(w, f) // a live log: what is there now; the caller asks again for more
}

// Serve runs the worker log server on ln until ctx ends.
func (s *WorkerServer) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("worker log server listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("worker log server: %w", err)
	}
	return nil
}

// WorkerLogs reads a try's log from the worker log server of the host that
// ran it; the webserver falls back to it when the log is neither local nor
// shipped yet.
type WorkerLogs struct {
	Client *http.Client
	Secret []byte
	Port   int
	// Host names the worker that ran the try logged at relPath (the task
	// instance's hostname); fs.ErrNotExist when there is none.
	Host func(ctx context.Context, relPath string) (string, error)
}

// Open fetches relPath from its worker; the error wraps fs.ErrNotExist
// when no worker has it.
func (wl *WorkerLogs) Open(ctx context.Context, relPath string) (io.ReadCloser, error) {
	if len(wl.Secret) == 0 {
		return nil, fmt.Errorf("worker log %s: no shared secret to ask workers with: %w", relPath, fs.ErrNotExist)
	}
	host, err := wl.Host(ctx, relPath)
	if err != nil {
		return nil, fmt.Errorf("worker log %s: %w", relPath, err)
	}
	u := "http://" + net.JoinHostPort(host, strconv.Itoa(wl.Port)) + "/log/" + filepath.ToSlash(relPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("worker log %s: %w", relPath, err)
	}
	req.Header.Set("Authorization", "Bearer "+sign(wl.Secret, relPath, time.Now().Add(tokenTTL)))
	client := wl.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// A worker that is gone took its unshipped log with it, as far
		// as the webserver can tell: show "does not exist", not an error.
		return nil, fmt.Errorf("worker log %s from %s: %w (%w)", relPath, host, fs.ErrNotExist, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("worker log %s on %s: %w", relPath, host, fs.ErrNotExist)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("worker log %s from %s: %s: %s", relPath, host, resp.Status, strings.TrimSpace(string(b)))
	}
}
