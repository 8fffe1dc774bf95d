package dag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Task returns the task with the given ID, or nil.
func (d *DAG) Task(id string) *Task {
	if d.TaskIDs != nil {
		if i, ok := d.TaskIDs[id]; ok && i < len(d.Tasks) && d.Tasks[i].ID == id {
			return d.Tasks[i]
		}
		return nil
	}
	for _, t := range d.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// link checks the dependency graph (dangling references, cycles) and
// fills Task.Downstream. Unresolvable references are skipped after being reported.
func (d *DAG) link() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range d.Tasks {
		for _, id := range t.OutputRefs() {
			if u := d.Task(id); u != nil {
				u.outputRead = true
			}
		}
		for i, up := range t.Upstream {
			u := d.Task(up)
			if u == nil {
				diags = append(diags, danglingDiag(d, t, i)...)
				continue
			}
			u.Downstream = append(u.Downstream, t.ID)
		}
	}
	return append(diags, d.cycles()...)
}

func danglingDiag(d *DAG, t *Task, i int) hcl.Diagnostics {
	ids := make([]string, len(d.Tasks))
	for j, o := range d.Tasks {
		ids[j] = o.ID
	}
	return errorDiag(t.upRanges[i], "Reference to undeclared task",
		fmt.Sprintf("Task %q depends on task %q, which DAG %q does not define.%s",
			t.ID, t.Upstream[i], d.ID, didYouMean(t.Upstream[i], ids)))
}

// cycles reports every dependency cycle found by a depth-first walk along
// depends_on edges: each edge back to a task still on the walk's stack
// closes a cycle, and the stack from that task on names all its members.
func (d *DAG) cycles() hcl.Diagnostics {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make(map[string]int, len(d.Tasks))
	var stack []string
	var diags hcl.Diagnostics
	var visit func(t *Task)
	visit = func(t *Task) {
		state[t.ID] = onStack
		stack = append(stack, t.ID)
		for i, up := range t.Upstream {
			u := d.Task(up)
			switch {
			case u == nil:
			case state[up] == onStack:
				diags = append(diags, cycleDiag(stack, up, t.upRanges[i])...)
			case state[up] == unvisited:
				visit(u)
			}
		}
		stack = stack[:len(stack)-1]
		state[t.ID] = done
	}
	for _, t := range d.Tasks {
		if state[t.ID] == unvisited {
			visit(t)
		}
	}
	return diags
}

// cycleDiag describes the cycle that the edge from the top of stack to
// `to` closes; rng is where that edge is written.
func cycleDiag(stack []string, to string, rng hcl.Range) hcl.Diagnostics {
	var members []string
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] == to {
			members = stack[i:]
			break
		}
	}
	if len(members) == 1 {
		return errorDiag(rng, "Dependency cycle", fmt.Sprintf("Task %q depends on itself.", to))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tasks %s form a cycle: %q", quoteJoin(members), members[0])
	for _, m := range members[1:] {
		fmt.Fprintf(&b, " depends on %q, which", m)
	}
	fmt.Fprintf(&b, " depends on %q.", to)
	return errorDiag(rng, "Dependency cycle", b.String())
}

func quoteJoin(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// TopoOrder returns the tasks so that each comes after all its upstream
// tasks. It is a depth-first walk in file order, upstream tasks first in
// depends_on order, so the order is stable across loads and close to the
// file's. The DAG must be acyclic (as loaded DAGs are).
func (d *DAG) TopoOrder() []*Task {
	out := make([]*Task, 0, len(d.Tasks))
	seen := make(map[string]bool, len(d.Tasks))
	var visit func(t *Task)
	visit = func(t *Task) {
		if seen[t.ID] {
			return
		}
		seen[t.ID] = true
		for _, up := range t.Upstream {
			if u := d.Task(up); u != nil {
				visit(u)
			}
		}
		out = append(out, t)
	}
	for _, t := range d.Tasks {
		visit(t)
	}
	return out
}

// PriorityWeights returns each task's effective priority weight under
// Airflow's default "downstream" rule: its own priority_weight plus that
// of every task downstream of it, directly or not, each counted once.
// Tasks that unblock more work thus go first.
func (d *DAG) PriorityWeights() map[string]int {
	down := make(map[string][]string, len(d.Tasks))
	for _, t := range d.Tasks {
		for _, up := range t.Upstream {
			down[up] = append(down[up], t.ID)
		}
	}
	out := make(map[string]int, len(d.Tasks))
	for _, t := range d.Tasks {
		// Clone: the walk appends to todo, which must not write into down.
		w, seen, todo := t.PriorityWeight, map[string]bool{t.ID: true}, slices.Clone(down[t.ID])
		for len(todo) > 0 {
			id := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			if seen[id] {
				continue
			}
			seen[id] = true
			if dt := d.Task(id); dt != nil {
				w += dt.PriorityWeight
			}
			todo = append(todo, down[id]...)
		}
		out[t.ID] = w
	}
	return out
}
