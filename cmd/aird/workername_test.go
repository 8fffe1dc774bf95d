package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFlowerShowsWorkersByName: two workers on one host, named through
// AIRD_WORKER_NAME as their systemd units name them (worker%i@%H), are
// two workers in flower's JSON API and page, each under its own name.
func TestFlowerShowsWorkersByName(t *testing.T) {
	c := newCluster(t, fastSettings)
	c.dag("idle", fanOutDAG("idle", 1))
	t.Setenv("AIRD_WORKER_NAME", "worker1@h") // inherited by the next process only
	w1 := c.worker("")
	t.Setenv("AIRD_WORKER_NAME", "worker2@h")
	w2 := c.worker("")
	t.Setenv("AIRD_WORKER_NAME", "")
	out, err := c.command(c.newHome("users", ""), "users", "create", "--username", "view", "--role", "Viewer",
		"--email", "v@example.com", "--firstname", "V", "--lastname", "W", "--password", "viewer-pass").CombinedOutput()
	if err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	flower := c.start("flower", "flower listening", "", "--port", "0")
	m := flowerAddr.FindStringSubmatch(flower.logText())
	if m == nil {
		t.Fatalf("no listening address in\n%s", flower.logText())
	}
	base := "http://127.0.0.1:" + m[1]

	code, body := get(t, base+"/api/workers", "view", "viewer-pass")
	var got struct {
		Workers []struct {
			Name  string `json:"name"`
			PID   int    `json:"pid"`
			Alive bool   `json:"alive"`
		}
	}
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("/api/workers: %d %s", code, body)
	}
	byName := map[string]int{}
	for _, w := range got.Workers {
		if !w.Alive {
			t.Errorf("worker %s (pid %d) is not alive", w.Name, w.PID)
		}
		byName[w.Name] = w.PID
	}
	if len(got.Workers) != 2 || byName["worker1@h"] != w1.pid() || byName["worker2@h"] != w2.pid() {
		t.Fatalf("/api/workers = %s; want worker1@h (pid %d) and worker2@h (pid %d)", body, w1.pid(), w2.pid())
	}
	code, page := get(t, base+"/", "view", "viewer-pass")
	for _, name := range []string{"worker1@h", "worker2@h"} {
		if code != 200 || !strings.Contains(page, "<td>"+name+"</td>") {
			t.Errorf("flower page (%d) lacks %s:\n%s", code, name, page)
		}
	}
	for name, w := range map[string]*proc{"worker1@h": w1, "worker2@h": w2} {
		if !strings.Contains(w.logText(), "name="+name) {
			t.Errorf("%s does not log its name %s at start:\n%s", w.name, name, w.logText())
		}
	}
}
