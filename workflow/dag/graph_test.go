package dag

import (
	"reflect"
	"testing"
)

// diamondSrc: a fans out to b and c, which fan in to d; e is independent
// and declared before its upstream to check ordering.
const diamondSrc = `dag "g" {
  task "e" {
    command    = "true"
    depends_on = [task.d]
    priority_weight = 0
  }
  task "d" {
    command    = "true"
    depends_on = [task.c, task.b]
    priority_weight = 10
  }
  task "b" {
    command    = "true"
    depends_on = [task.a]
    priority_weight = 2
  }
  task "a" { command = "true" }
  task "c" {
    command    = "true"
    depends_on = [task.a]
    priority_weight = 3
  }
  task "lone" { command = "true" }
}`

func TestTopoOrder(t *testing.T) {
	d := mustParseOne(t, diamondSrc)
	var got []string
	pos := map[string]int{}
	for i, task := range d.TopoOrder() {
		got = append(got, task.ID)
		pos[task.ID] = i
	}
	if want := []string{"a", "c", "b", "d", "e", "lone"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TopoOrder = %q, want %q", got, want)
	}
	for _, task := range d.Tasks {
		for _, up := range task.Upstream {
			if pos[up] > pos[task.ID] {
				t.Errorf("%s comes before its upstream %s", task.ID, up)
			}
		}
	}
}

func TestDownstream(t *testing.T) {
	d := mustParseOne(t, diamondSrc)
	want := map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {"e"}, "e": nil, "lone": nil}
	for id, w := range want {
		if got := d.Task(id).Downstream; !reflect.DeepEqual(got, w) {
			t.Errorf("%s.Downstream = %q, want %q", id, got, w)
		}
	}
	if d.Task("nope") != nil {
		t.Error(`Task("nope") != nil`)
	}
}

func TestPriorityWeights(t *testing.T) {
	d := mustParseOne(t, diamondSrc)
	// a = 1 + b(2) + c(3) + d(10) + e(0): d is downstream twice but counts once.
	want := map[string]int{"a": 16, "b": 12, "c": 13, "d": 10, "e": 0, "lone": 1}
	if got := d.PriorityWeights(); !reflect.DeepEqual(got, want) {
		t.Errorf("PriorityWeights = %v, want %v", got, want)
	}
}

func TestGraphOnHandBuiltDAG(t *testing.T) {
	// Without TaskIDs (a DAG built in code) lookups fall back to a scan.
	d := &DAG{Tasks: []*Task{
		{ID: "y", Upstream: []string{"x"}, PriorityWeight: 1},
		{ID: "x", PriorityWeight: 1},
	}}
	if d.Task("x") != d.Tasks[1] {
		t.Error("Task(x) not found by scan")
	}
	if got := d.TopoOrder(); got[0].ID != "x" || got[1].ID != "y" {
		t.Errorf("TopoOrder = %s, %s", got[0].ID, got[1].ID)
	}
	if got := d.PriorityWeights(); got["x"] != 2 || got["y"] != 1 {
		t.Errorf("PriorityWeights = %v", got)
	}
}

func TestCycleReportsEachCycle(t *testing.T) {
	_, _, diags := ParseFile("test.hcl", []byte(`dag "c" {
  task "a" {
    command    = "true"
    depends_on = [task.b]
  }
  task "b" {
    command    = "true"
    depends_on = [task.a]
  }
  task "x" {
    command    = "true"
    depends_on = [task.y]
  }
  task "y" {
    command    = "true"
    depends_on = [task.z]
  }
  task "z" {
    command    = "true"
    depends_on = [task.x]
  }
}`))
	var got []string
	for _, e := range errorsOf(diags) {
		got = append(got, e.Detail)
	}
	want := []string{
		`Tasks "a", "b" form a cycle: "a" depends on "b", which depends on "a".`,
		`Tasks "x", "y", "z" form a cycle: "x" depends on "y", which depends on "z", which depends on "x".`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
