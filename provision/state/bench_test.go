package state

import (
	"encoding/json"
	"fmt"
	"testing"
)

func bigState(n int) *State {
	s := New("v")
	for i := range n {
		s.SetInstance(Address{Type: "google_compute_instance", Name: fmt.Sprintf("vm%d", i)}, "google", &Instance{
			Attributes:   json.RawMessage(fmt.Sprintf(`{"name":"vm-%d","machine_type":"e2-highmem-2","zone":"us-central1-a","labels":{"a":"b","c":"d"},"network_interface":[{"network":"default","access_config":[{"nat_ip":"10.0.0.%d"}]}],"id":"%d"}`, i, i%250, 1e15+i)),
			Dependencies: []string{"google_compute_network.n"},
		})
	}
	return s
}

// BenchmarkPrepare1000 is the cost of one state write decision on a
// 1,000-resource state (the engine writes after every resource operation).
func BenchmarkPrepare1000(b *testing.B) {
	stored := bigState(1000)
	next := stored.DeepCopy()
	next.Instance(Address{Type: "google_compute_instance", Name: "vm1"}).Status = Tainted
	for b.Loop() {
		if _, err := Prepare(stored, next, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode1000(b *testing.B) {
	s := bigState(1000)
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}
