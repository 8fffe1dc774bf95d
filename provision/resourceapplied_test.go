package provision_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/state"
)

// TestResourceAppliedSeesEachResourceRecorded: the hook fires once per
// resource as soon as it is applied, with a state copy that already holds
// it (and what it depends on), and again for no-ops on the next apply.
func TestResourceAppliedSeesEachResourceRecorded(t *testing.T) {
	f := newFixture(t, map[string]string{"main.tf": lifecycleConfig})
	for round, wantCalls := range []int{2, 2} {
		var mu sync.Mutex
		var calls []string
		e := f.engine()
		e.ResourceApplied = func(addr string, st *state.State) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, addr)
			if st.Resource(state.MustParseAddress(addr)) == nil {
				t.Errorf("round %d: %s reported applied but not in the state given", round, addr)
			}
			if addr == "test_thing.b" && st.Resource(state.MustParseAddress("test_thing.a")) == nil {
				t.Errorf("round %d: b applied before a, which it references", round)
			}
			st.Resources = nil // a copy: the engine's state must not change
		}
		p, err := e.Plan(context.Background(), provision.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Apply(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(calls)
		if len(calls) != wantCalls || calls[0] != "test_thing.a" || calls[1] != "test_thing.b" {
			t.Errorf("round %d: hook calls %q; want test_thing.a and test_thing.b once each", round, calls)
		}
		if len(st.Resources) != 2 {
			t.Errorf("round %d: the hook changed the engine's state: %d resources", round, len(st.Resources))
		}
	}
}
