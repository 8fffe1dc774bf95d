package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/store"
)

// slotScript is each pooled task's workload. It measures concurrency
// where it happens, in the tasks, not by sampling the database: under an
// flock it counts itself in and records the new count and its task ID
// ($1) in "seen", holds
// its slot a moment so that overlaps are likely, then counts itself out
// under the same lock. The sleep is the workload, not synchronisation.
const slotScript = `set -e
dir=$(dirname "$0")
flock "$dir/lock" sh -c 'n=$(($(cat "$1/count") + 1)); echo "$n" > "$1/count"; echo "$n $2" >> "$1/seen"' _ "$dir" "$1"
sleep 0.2
flock "$dir/lock" sh -c 'echo $(($(cat "$1/count") - 1)) > "$1/count"' _ "$dir"
`

// poolMeter is the folder of one DAG's slot script, lock, counter and
// record of the counts seen.
type poolMeter struct{ dir string }

func newPoolMeter(t *testing.T, dir string) poolMeter {
	t.Helper()
	m := poolMeter{dir: dir}
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "slot.sh"), []byte(slotScript), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "count"), []byte("0\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "seen"), nil, 0o644))
	return m
}

// pooledDAG has n independent tasks taking slots each in pool, each
// running the meter's script; max_active_tasks is far above any pool so
// only the pool limits.
func (m poolMeter) pooledDAG(id, pool string, slots, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dag %q {\n  max_active_tasks = 256\n", id)
	for i := range n {
		fmt.Fprintf(&b, "  task \"t%03d\" {\n    pool       = %q\n    pool_slots = %d\n    command    = \"sh '%s' t%03d\"\n  }\n",
			i, pool, slots, filepath.Join(m.dir, "slot.sh"), i)
	}
	b.WriteString("}\n")
	return b.String()
}

// seen returns every count a task saw on entering, in order, and how
// many times each task entered.
func (m poolMeter) seen(t *testing.T) (counts []int, entries map[string]int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.dir, "seen"))
	must(t, err)
	entries = map[string]int{}
	for line := range strings.Lines(string(b)) {
		count, task, ok := strings.Cut(strings.TrimSpace(line), " ")
		n, err := strconv.Atoi(count)
		if !ok || err != nil {
			t.Fatalf("bad line %q in seen", line)
		}
		counts = append(counts, n)
		entries[task]++
	}
	return counts, entries
}

// left is the counter at the end: 0 once every task has counted itself out.
func (m poolMeter) left(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.dir, "count"))
	must(t, err)
	return strings.TrimSpace(string(b))
}

const (
	poolTasks   = 40
	poolWorkers = 3 // of concurrency 8 each: 24 slots, far above any pool here
)

// runPooled triggers one run of a DAG of poolTasks tasks taking slots each
// in pool, creates the pool, and only then starts two schedulers and
// poolWorkers workers, so nothing is queued before the pool exists. Once
// the run succeeded it checks that every task ran exactly once and returns
// the run's task instances and meter.
func runPooled(t *testing.T, pool store.Pool, slots int) ([]store.TaskInstance, poolMeter) {
	t.Helper()
	c := newCluster(t, fastSettings+`worker { concurrency = 8 }
`)
	m := newPoolMeter(t, filepath.Join(c.dir, "meter"))
	c.dag("pooled", m.pooledDAG("pooled", pool.Name, slots, poolTasks))
	runID := c.trigger("pooled") // also migrates the database
	check(t, c.store().SetPool(context.Background(), pool))
	c.scheduler()
	c.scheduler()
	for range poolWorkers {
		c.worker("")
	}
	c.waitRunSuccess("pooled", runID)

	tis := c.tis("pooled", runID)
	if len(tis) != poolTasks {
		t.Fatalf("the run has %d task instances, want %d", len(tis), poolTasks)
	}
	_, entries := m.seen(t)
	for _, ti := range tis {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
		}
		if n := entries[ti.TaskID]; n != 1 {
			t.Errorf("%s: its command ran %d times, want once", ti.TaskID, n)
		}
		delete(entries, ti.TaskID)
	}
	if len(entries) > 0 {
		t.Errorf("commands of unknown tasks ran: %v", entries)
	}
	if left := m.left(t); left != "0" {
		t.Errorf("counter ends at %s, want 0: a task did not count itself out", left)
	}
	return tis, m
}

// checkConcurrency asserts the most tasks ever inside the workload at once
// is exactly want: more breaks the pool, fewer means something else
// limited the run and the test could not have caught an excess.
func checkConcurrency(t *testing.T, m poolMeter, want int) {
	t.Helper()
	seen, _ := m.seen(t)
	if len(seen) == 0 {
		t.Fatal("no task counted itself in")
	}
	got := slices.Max(seen)
	if got > want {
		t.Fatalf("%d tasks ran at once in the pool, at most %d allowed; counts seen on entering, in order: %v", got, want, seen)
	}
	if got < want {
		t.Fatalf("at most %d tasks ran at once, want the pool's %d reached (else the test proves nothing): %v", got, want, seen)
	}
	t.Logf("max concurrency %d of %d allowed; counts seen: %v", got, want, seen)
}

// TestPoolSlotsNeverExceededAcrossSchedulers: 40 tasks in a 3-slot pool,
// two schedulers and 24 worker slots: never more than 3 tasks run at once,
// and 3 do.
func TestPoolSlotsNeverExceededAcrossSchedulers(t *testing.T) {
	_, m := runPooled(t, store.Pool{Name: "narrow", Slots: 3}, 1)
	checkConcurrency(t, m, 3)
}

// TestMultiSlotTasksNeverExceedPool: tasks taking 2 slots each
// (pool_slots = 2) in a 4-slot pool: never more than 2 run at once, and 2
// do. Counting task instances instead of the slots they hold would let 3 in.
func TestMultiSlotTasksNeverExceedPool(t *testing.T) {
	tis, m := runPooled(t, store.Pool{Name: "pairs", Slots: 4}, 2)
	for _, ti := range tis {
		if ti.PoolSlots != 2 {
			t.Fatalf("%s ran with pool_slots %d, want the DAG's 2", ti.TaskID, ti.PoolSlots)
		}
	}
	checkConcurrency(t, m, 2)
}
