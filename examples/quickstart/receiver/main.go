// Command receiver is the local service of the quickstart demo (`make
// demo`): the service_check example DAG calls its API, waits for the
// export file it writes a little later, and its webhook notifier posts
// here. It needs no account and no internet; it prints every webhook it
// receives.
//
//	receiver -addr 127.0.0.1:8099 -dir /tmp/exports
//
// POST /api/export?day=YYYYMMDD answers {"ok": true, "file": PATH} and
// writes PATH after -delay; POST /hooks/NAME records a notification,
// which GET /hooks lists as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8099", "listen address")
	dir := flag.String("dir", os.TempDir(), "folder the export files are written to")
	delay := flag.Duration("delay", 5*time.Second, "how long an export takes before its file appears")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, newServer(ctx, *dir, *delay, os.Stdout, log)); err != nil {
		log.Error("receiver stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server is the demo service's state: the notifications received.
type server struct {
	ctx   context.Context // ends pending exports on shutdown
	dir   string
	delay time.Duration
	out   io.Writer // where webhooks are printed
	log   *slog.Logger

	mu    sync.Mutex
	hooks []hook
}

// hook is one notification received.
type hook struct {
	Name string          `json:"name"`
	Body json.RawMessage `json:"body"`
}

var dayPattern = regexp.MustCompile(`^[0-9]{8}$`)

func newServer(ctx context.Context, dir string, delay time.Duration, out io.Writer, log *slog.Logger) http.Handler {
	s := &server{ctx: ctx, dir: dir, delay: delay, out: out, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/export", s.export)
	mux.HandleFunc("POST /hooks/{name}", s.receive)
	mux.HandleFunc("GET /hooks", s.list)
	return mux
}

// export starts an export whose file appears after the delay, as a real
// service's batch job would.
func (s *server) export(w http.ResponseWriter, r *http.Request) {
	day := r.URL.Query().Get("day")
	if !dayPattern.MatchString(day) {
		http.Error(w, `{"ok": false, "error": "day must be YYYYMMDD"}`, http.StatusBadRequest)
		return
	}
	path := filepath.Join(s.dir, "export-"+day+".csv")
	go s.writeLater(path, day)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "file": path})
}

func (s *server) writeLater(path, day string) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return
	case <-t.C:
	}
	data := fmt.Sprintf("day,orders\n%s,42\n", day)
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, []byte(data), 0o644)
	if err == nil {
		err = os.Rename(tmp, path) // the sensor never sees half a file
	}
	if err != nil {
		s.log.Error("write export", "path", path, "err", err)
	}
}

func (s *server) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		http.Error(w, "send a JSON body", http.StatusBadRequest)
		return
	}
	h := hook{Name: r.PathValue("name"), Body: body}
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
	fmt.Fprintf(s.out, "receiver: webhook %s: %s\n", h.Name, body)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	hooks := append([]hook{}, s.hooks...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(hooks)
}
