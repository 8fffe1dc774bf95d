package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var flowerAddr = regexp.MustCompile(`msg="flower listening" addr=\S*:(\d+)`)

// TestFlowerCommand: `aird flower` serves the monitor behind the aird
// users, /metrics without them, and exits cleanly on SIGTERM.
func TestFlowerCommand(t *testing.T) {
	h := newHome(t, "1s")
	h.run("users", "create", "--username", "view", "--role", "Viewer", "--email", "v@example.com", "--password", "viewer-pass")
	c := h.cmd("flower", "--port", "0")
	logPath := filepath.Join(h.dir, "flower.log")
	logf, err := os.Create(logPath)
	must(t, err)
	defer logf.Close()
	c.Stdout, c.Stderr = logf, logf
	must(t, c.Start())
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for port == "" {
		out, _ := os.ReadFile(logPath)
		if m := flowerAddr.FindSubmatch(out); m != nil {
			port = string(m[1])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flower never listened; log:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := "http://127.0.0.1:" + port
	if code, _ := get(t, base+"/api/workers", "", ""); code != 401 {
		t.Fatalf("API without auth: %d", code)
	}
	code, body := get(t, base+"/api/workers", "view", "viewer-pass")
	var workers struct{ Workers []any }
	if code != 200 || json.Unmarshal([]byte(body), &workers) != nil {
		t.Fatalf("workers as viewer: %d %s", code, body)
	}
	if code, body := get(t, base+"/", "view", "viewer-pass"); code != 200 || !strings.Contains(body, "aird flower") {
		t.Fatalf("page: %d %s", code, body)
	}
	if code, body := get(t, base+"/metrics", "", ""); code != 200 || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Fatalf("/metrics: %d", code)
	}
	must(t, c.Process.Signal(syscall.SIGTERM))
	if err := c.Wait(); err != nil {
		t.Fatalf("flower exit: %v", err)
	}
}
