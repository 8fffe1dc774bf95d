package scheduler

import (
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// upstreamCounts tallies the states of a task's upstream tasks.
type upstreamCounts struct {
	total, success, skipped, failed, done int
}

func countUpstream(upstream []string, states map[string]store.TIState) upstreamCounts {
	c := upstreamCounts{total: len(upstream)}
	for _, id := range upstream {
		switch states[id] {
		case store.TISuccess:
			c.success++
		case store.TISkipped:
			c.skipped++
		case store.TIFailed, store.TIUpstreamFailed:
			c.failed++
		}
	}
	c.done = c.success + c.skipped + c.failed
	return c
}

// decide applies a trigger rule as Airflow does. It returns the state to
// move a not-yet-scheduled task to, or TINone to keep waiting.
func decide(rule dag.TriggerRule, c upstreamCounts) store.TIState {
	if c.total == 0 {
		return store.TIScheduled
	}
	allDone := c.done == c.total
	switch rule {
	case dag.AllFailed:
		return whenAll(allDone, c.success+c.skipped > 0, store.TISkipped)
	case dag.AllDone:
		return whenAll(allDone, false, store.TINone)
	case dag.OneSuccess:
		return oneOf(c.success > 0, allDone, c.skipped == c.total)
	case dag.OneFailed:
		if c.failed > 0 {
			return store.TIScheduled
		}
		return whenAll(allDone, true, store.TISkipped)
	case dag.NoneFailed:
		if c.failed > 0 {
			return store.TIUpstreamFailed
		}
		return whenAll(allDone, false, store.TINone)
	default: // all_success
		if c.failed > 0 {
			return store.TIUpstreamFailed
		}
		if c.skipped > 0 {
			return store.TISkipped
		}
		return whenAll(allDone, false, store.TINone)
	}
}

// whenAll waits for every upstream; once done, a veto yields vetoState.
func whenAll(allDone, veto bool, vetoState store.TIState) store.TIState {
	switch {
	case !allDone:
		return store.TINone
	case veto:
		return vetoState
	default:
		return store.TIScheduled
	}
}

// oneOf runs as soon as one upstream qualifies; with none left it fails
// (or skips when every upstream was skipped).
func oneOf(qualifies, allDone, allSkipped bool) store.TIState {
	switch {
	case qualifies:
		return store.TIScheduled
	case !allDone:
		return store.TINone
	case allSkipped:
		return store.TISkipped
	default:
		return store.TIUpstreamFailed
	}
}

// runOutcome says how a run with every task finished ended: it fails if
// any leaf task failed, as in Airflow.
func runOutcome(d *dag.DAG, states map[string]store.TIState) store.RunState {
	for _, t := range d.Tasks {
		if len(t.Downstream) > 0 {
			continue
		}
		if s := states[t.ID]; s == store.TIFailed || s == store.TIUpstreamFailed {
			return store.RunFailed
		}
	}
	return store.RunSuccess
}
