package google

import (
	"strings"
	"sync"
	"testing"

	"github.com/airctl/airctl/internal/gcpfake"
)

// Compute operations are followed with the wait method (zonal, regional
// and global), never by polling the operation: a poll interval would
// add to every create on the critical path.
func TestComputeOperationsWaitedNotPolled(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits, polls []string
	e := newEnv(t, gcpfake.Options{Latency: gcpfake.FastLatency(), Logf: func(format string, args ...any) {
		if len(args) != 2 {
			return
		}
		method, uri := args[0].(string), strings.Split(args[1].(string), "?")[0]
		if !strings.HasPrefix(uri, "/compute/") || !strings.Contains(uri, "/operations/") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if method == "POST" && strings.HasSuffix(uri, "/wait") {
			waits = append(waits, uri)
		} else {
			polls = append(polls, method+" "+uri)
		}
	}})
	e.config(`
resource "google_compute_network" "n" {
  name                    = "n"
  auto_create_subnetworks = false
}
resource "google_compute_subnetwork" "s" {
  name          = "s"
  network       = google_compute_network.n.id
  ip_cidr_range = "10.0.0.0/24"
}
resource "google_compute_instance_group" "g" {
  name    = "g"
  network = google_compute_network.n.id
}
`)
	e.apply()
	mu.Lock()
	defer mu.Unlock()
	if len(polls) > 0 {
		t.Errorf("operations polled: %q", polls)
	}
	scopes := map[string]bool{}
	for _, w := range waits {
		for _, s := range []string{"/global/", "/regions/", "/zones/"} {
			if strings.Contains(w, s) {
				scopes[s] = true
			}
		}
	}
	if len(scopes) != 3 {
		t.Fatalf("waits %q: want global, regional and zonal ones", waits)
	}
}
