package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airctl/airctl/workflow/store"
)

// haSettings: fast loops, and lost messages and zombies noticed within
// seconds so the tests stay short.
const haSettings = `
scheduler {
  poll_interval       = "50ms"
  heartbeat_interval  = "100ms"
  parse_interval      = "1s"
  orphan_timeout      = "1s"
  task_queued_timeout = "1s"
}
`

// pushLog counts, from Redis's MONITOR stream, the task messages stored in
// the broker per run, task and try: an observation independent of aird's
// own bookkeeping.
type pushLog struct {
	mu     sync.Mutex
	pushes map[string]int // "run/task/try" → pushes
}

var pushedMsg = regexp.MustCompile(`\\"RunID\\":\\"([^\\"]+)\\",\\"TaskID\\":\\"([^\\"]+)\\",\\"Try\\":(\d+)`)

// monitorPushes streams MONITOR on a raw connection (go-redis's Monitor
// races with its own connection pool) until the test ends.
func (c *cluster) monitorPushes() *pushLog {
	c.t.Helper()
	conn, err := net.Dial("tcp", c.redis.Addr)
	check(c.t, err)
	c.t.Cleanup(func() { _ = conn.Close() })
	cmd, oks := "MONITOR\r\n", 1
	if c.redis.Password != "" {
		cmd, oks = fmt.Sprintf("AUTH %s\r\n", c.redis.Password)+cmd, 2
	}
	_, err = conn.Write([]byte(cmd))
	check(c.t, err)
	p := &pushLog{pushes: map[string]int{}}
	started := make(chan struct{})
	go func() {
		r := bufio.NewReaderSize(conn, 1<<20)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // the connection closed at cleanup
			}
			if oks > 0 && strings.HasPrefix(line, "+OK") {
				if oks--; oks == 0 {
					close(started)
				}
				continue
			}
			// Count the HSET that stores a message's body, run by the
			// push script: a push that found the try already queued, or
			// a script call retried as EVAL after NOSCRIPT, stores none.
			if !strings.Contains(line, " lua] \"HSET\"") {
				continue
			}
			if m := pushedMsg.FindStringSubmatch(line); m != nil {
				p.mu.Lock()
				p.pushes[m[1]+"/"+m[2]+"/"+m[3]]++
				p.mu.Unlock()
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		c.t.Fatal("redis MONITOR did not start")
	}
	return p
}

// TestSchedulerSIGKILLOthersCarryOn: two schedulers share a run of 300
// tasks; one is killed with SIGKILL mid-run. The other finishes the run,
// every task succeeds on its first try, and the broker saw exactly one
// push per try (counted with MONITOR): nothing was queued twice, and what
// the dead scheduler had claimed but not pushed was pushed once by the
// survivor.
func TestSchedulerSIGKILLOthersCarryOn(t *testing.T) {
	c := newCluster(t, haSettings+`worker { concurrency = 8 }
`)
	const n = 300
	c.dag("wide", fanOutDAG("wide", n))
	pushes := c.monitorPushes()
	victim, survivor := c.scheduler(), c.scheduler()
	workers := []*proc{c.worker(""), c.worker("")}
	runID := c.trigger("wide")
	c.waitFor("a third of the run to be done", func() bool {
		done, err := c.store().CountTaskInstances(context.Background(), store.TIFilter{DagID: "wide", States: []store.TIState{store.TISuccess}})
		check(t, err)
		return done >= n/3
	})
	must(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.wait(victim)
	killedAt := time.Now()
	c.waitRunSuccess("wide", runID)
	t.Logf("run finished %v after the kill", time.Since(killedAt).Round(time.Millisecond))

	queuedBy := map[int64]int{}
	for _, ti := range c.tis("wide", runID) {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
		}
		queuedBy[ti.QueuedByJobID]++
	}
	pushes.mu.Lock()
	defer pushes.mu.Unlock()
	for i := range n {
		key := fmt.Sprintf("%s/t%03d/1", runID, i)
		if got := pushes.pushes[key]; got != 1 {
			t.Errorf("%s stored in the broker %d times, want once", key, got)
		}
		delete(pushes.pushes, key)
	}
	if len(pushes.pushes) > 0 {
		t.Errorf("unexpected pushes: %v", pushes.pushes)
	}
	for _, w := range workers {
		if strings.Contains(w.logText(), "skipping stale task message") {
			t.Errorf("%s got a duplicate message:\n%s", w.name, w.logText())
		}
	}
	if survivor.exited() {
		t.Fatalf("the surviving scheduler exited: %v", survivor.err)
	}
	t.Logf("task instances queued per scheduler job: %v", queuedBy)
}

// TestLostMessagesAreQueuedAgain: messages the broker loses (a FLUSHALL:
// Redis restarted without persistence) are pushed again once queued for
// task_queued_timeout, and every task runs once.
func TestLostMessagesAreQueuedAgain(t *testing.T) {
	c := newCluster(t, haSettings+`worker { concurrency = 4 }
`)
	c.dag("fan", fanOutDAG("fan", 20))
	sched := c.scheduler()
	runID := c.trigger("fan")
	c.waitFor("all 20 tasks waiting in redis", func() bool { return c.waiting("default") == 20 })
	c.flushRedis()
	w := c.worker("")
	c.waitRunSuccess("fan", runID)
	for _, ti := range c.tis("fan", runID) {
		if ti.State != store.TISuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
		}
	}
	if got := strings.Count(sched.logText(), "the broker lost a queued task's message"); got != 20 {
		t.Errorf("scheduler re-queued %d lost messages, want 20:\n%s", got, sched.logText())
	}
	if strings.Contains(w.logText(), "skipping stale task message") {
		t.Errorf("worker got a duplicate message:\n%s", w.logText())
	}
}

// TestZombieTaskGetsNewTry: a worker dies mid-task and the broker loses
// the task's message with it, so no lease expiry can redeliver it; once
// the worker's heartbeat is older than orphan_timeout the scheduler hands
// the try back and another worker runs a new, uncharged try.
func TestZombieTaskGetsNewTry(t *testing.T) {
	c := newCluster(t, haSettings+`worker {
  concurrency = 2
  kill_grace  = "200ms"
}
`)
	mark := c.dir + "/started"
	killMarkedTask(t, mark)
	c.dag("long", blockingDAG("long", mark, c.dir+"/never"))
	sched := c.scheduler()
	victim := c.worker("")
	runID := c.trigger("long")
	c.waitFor("the first try to start", func() bool { return exists(mark) })
	must(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.wait(victim)
	c.flushRedis()
	rescuer := c.worker("")
	c.waitRunSuccess("long", runID)

	work := c.ti("long", runID, "work")
	if work.State != store.TISuccess || work.TryNumber != 2 || work.MaxTries != 1 || work.PID != rescuer.pid() {
		t.Fatalf("work: %s try %d max_tries %d pid %d; want success on try 2 by pid %d, the lost try not charged (max_tries 1)",
			work.State, work.TryNumber, work.MaxTries, work.PID, rescuer.pid())
	}
	if !strings.Contains(sched.logText(), "zombie task") {
		t.Errorf("the scheduler did not report the zombie:\n%s", sched.logText())
	}
	if logs := c.taskLogs("long", "work"); len(logs) != 2 || successLines(logs) != 1 {
		t.Fatalf("work logs %v with %d success lines; want try 1 (killed) and try 2, one success", logs, successLines(logs))
	}
}

// waiting counts the messages waiting in a named queue of the broker.
func (c *cluster) waiting(queue string) int64 {
	c.t.Helper()
	client := redis.NewClient(&redis.Options{Addr: c.redis.Addr, Password: c.redis.Password})
	defer client.Close()
	n, err := client.ZCard(context.Background(), "{aird}:q:"+queue).Result()
	check(c.t, err)
	return n
}

// flushRedis drops everything the broker holds, as a restart without
// persistence does.
func (c *cluster) flushRedis() {
	c.t.Helper()
	client := redis.NewClient(&redis.Options{Addr: c.redis.Addr, Password: c.redis.Password})
	defer client.Close()
	check(c.t, client.FlushAll(context.Background()).Err())
}
