package logs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

const testBucket = "airflow-logs"

// bucket is gcpfake's Cloud Storage behind a switch that can take uploads
// down (an outage lasting as long as the test wants), reached through the
// real storage client.
type bucket struct {
	t      *testing.T
	fake   *gcpfake.Server
	client *storage.Client
	down   atomic.Bool  // uploads answer 503 while set
	failed atomic.Int64 // upload requests refused while down
}

func newBucket(t *testing.T) *bucket {
	t.Helper()
	b := &bucket{t: t, fake: gcpfake.New(gcpfake.Options{Latency: gcpfake.InstantLatency()})}
	h := b.fake.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.down.Load() && strings.HasPrefix(r.URL.Path, "/upload/") {
			b.failed.Add(1)
			http.Error(w, `{"error":{"code":503,"message":"down for the test"}}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.Close()
		b.fake.Close()
	})
	c, err := storage.NewClient(context.Background(), option.WithEndpoint(gcpfake.EndpointsFor(ts.URL).Storage), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	b.client = c
	if err := c.Bucket(testBucket).Create(t.Context(), "p1", nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// shipper is a GCS shipper on b with fast retries; spool is its spool dir.
func (b *bucket) shipper(spool string, deleteLocal bool) *logs.GCS {
	b.t.Helper()
	g, err := logs.NewGCS(b.client, logs.GCSOptions{
		Bucket: testBucket, Prefix: "logs", DeleteLocal: deleteLocal, SpoolDir: spool,
		Attempts: 2, Backoff: 10 * time.Millisecond,
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return g
}

// object returns the stored object's content, or ok=false if absent.
func (b *bucket) object(name string) (string, bool) {
	b.t.Helper()
	r, err := b.client.Bucket(testBucket).Object(name).NewReader(b.t.Context())
	if errors.Is(err, storage.ErrObjectNotExist) {
		return "", false
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		b.t.Fatal(err)
	}
	return string(data), true
}

// writeLog writes a finished try's log under base and returns its local
// and relative paths.
func writeLog(t *testing.T, base, content string) (string, string) {
	t.Helper()
	k := store.TIKey{DagID: "etl", RunID: "manual__1", TaskID: "extract"}
	f, err := logs.Create(base, k, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name(), logs.RelPath(k, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), 1)
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// lines collects what Follow writes and reports each complete line.
type lines struct {
	mu   sync.Mutex
	buf  strings.Builder
	part string
	ch   chan string
}

func newLines() *lines { return &lines{ch: make(chan string, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.part += string(p)
	for {
		i := strings.IndexByte(l.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.ch <- l.part[:i]
		l.part = l.part[i+1:]
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// next waits for the next complete line.
func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no line from Follow within 10s")
		return ""
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
