package logs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func startWorkerServer(t *testing.T, dir string, secret string) (host string, port int) {
	srv := httptest.NewServer(&WorkerServer{Dir: dir, Secret: []byte(secret)})
	t.Cleanup(srv.Close)
	h, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port, _ = strconv.Atoi(p)
	return h, port
}

func workerLogs(host string, port int, secret string) *WorkerLogs {
	return &WorkerLogs{Secret: []byte(secret), Port: port,
		Host: func(context.Context, string) (string, error) { return host, nil }}
}

func TestWorkerLogServerServesLiveLogToHoldersOfTheSecret(t *testing.T) {
	dir := t.TempDir()
	rel := filepath.Join("etl", "load", "2024-03-10T00:00:00+00:00", "1.log")
	if err := os.MkdirAll(filepath.Dir(LocalPath(dir, rel)), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(LocalPath(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	host, port := startWorkerServer(t, dir, "s3cret")
	read := func(wl *WorkerLogs, rel string) (string, error) {
		rc, err := wl.Open(t.Context(), rel)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}

	good := workerLogs(host, port, "s3cret")
	for _, line := range []string{"first\n", "second\n"} { // the try is still writing
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
		got, err := read(good, rel)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"first\n": "first\n", "second\n": "first\nsecond\n"}[line]; got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	if _, err := read(good, filepath.Join("etl", "load", "2024-03-10T00:00:00+00:00", "2.log")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing log: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := read(workerLogs(host, port, "guess"), rel); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("wrong secret: err = %v, want a refusal", err)
	}
	if _, err := read(workerLogs(host, port, ""), rel); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no secret: err = %v, want fs.ErrNotExist without asking", err)
	}
	if _, err := read(workerLogs("127.0.0.1", 1, "s3cret"), rel); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("worker gone: err = %v, want fs.ErrNotExist", err)
	}

	// A token is bound to its path and expires; paths cannot leave Dir.
	get := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(host, strconv.Itoa(port))+"/log/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	secret := []byte("s3cret")
	if code := get(rel, sign(secret, rel, time.Now().Add(time.Minute))); code != http.StatusOK {
		t.Errorf("valid token: %d", code)
	}
	if code := get(rel, sign(secret, "etl/other.log", time.Now().Add(time.Minute))); code != http.StatusForbidden {
		t.Errorf("token of another path: %d, want 403", code)
	}
	if code := get(rel, sign(secret, rel, time.Now().Add(-time.Second))); code != http.StatusForbidden {
		t.Errorf("expired token: %d, want 403", code)
	}
	escape := "etl/../../secret.log"
	if code := get(escape, sign(secret, escape, time.Now().Add(time.Minute))); code != http.StatusBadRequest && code != http.StatusNotFound && code != http.StatusForbidden {
		t.Errorf("path outside the log folder: %d, want a refusal", code)
	}
}
