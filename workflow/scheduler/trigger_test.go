package scheduler

import (
	"testing"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

func TestDecideTriggerRules(t *testing.T) {
	const (
		S  = store.TISuccess
		F  = store.TIFailed
		UF = store.TIUpstreamFailed
		K  = store.TISkipped
		R  = store.TIRunning
		N  = store.TINone
	)
	cases := []struct {
		rule dag.TriggerRule
		up   []store.TIState
		want store.TIState
	}{
		{dag.AllSuccess, nil, store.TIScheduled},
		{dag.AllSuccess, []store.TIState{S, S}, store.TIScheduled},
		{dag.AllSuccess, []store.TIState{S, R}, N},
		{dag.AllSuccess, []store.TIState{F, R}, UF},
		{dag.AllSuccess, []store.TIState{UF, S}, UF},
		{dag.AllSuccess, []store.TIState{K, S}, K},
		{dag.AllFailed, []store.TIState{F, UF}, store.TIScheduled},
		{dag.AllFailed, []store.TIState{F, R}, N},
		{dag.AllFailed, []store.TIState{F, S}, K},
		{dag.AllDone, []store.TIState{F, S, K}, store.TIScheduled},
		{dag.AllDone, []store.TIState{F, R}, N},
		{dag.OneSuccess, []store.TIState{S, R}, store.TIScheduled},
		{dag.OneSuccess, []store.TIState{F, R}, N},
		{dag.OneSuccess, []store.TIState{F, F}, UF},
		{dag.OneSuccess, []store.TIState{K, K}, K},
		{dag.OneFailed, []store.TIState{F, R}, store.TIScheduled},
		{dag.OneFailed, []store.TIState{UF, R}, store.TIScheduled},
		{dag.OneFailed, []store.TIState{S, R}, N},
		{dag.OneFailed, []store.TIState{S, K}, K},
		{dag.NoneFailed, []store.TIState{S, K}, store.TIScheduled},
		{dag.NoneFailed, []store.TIState{S, R}, N},
		{dag.NoneFailed, []store.TIState{S, F}, UF},
	}
	for _, c := range cases {
		states := map[string]store.TIState{}
		var ids []string
		for i, s := range c.up {
			id := string(rune('a' + i))
			ids = append(ids, id)
			states[id] = s
		}
		if got := decide(c.rule, countUpstream(ids, states)); got != c.want {
			t.Errorf("%s with upstream %v = %q, want %q", c.rule, c.up, got, c.want)
		}
	}
}
